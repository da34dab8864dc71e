// Issue #16: the example page, built and served on localhost, trains privately in headless Chromium
// (Debian's /usr/bin/chromium through playwright-core; nothing downloads a browser), and the model it
// hands out loads back in Node with the weights it trained.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gpt2Model, loadPretrainedFromBytes } from '@clipwise/models';
import { weightDigest, type WeightDigest } from '../src/weight-digest';
import { buildPage } from './build-page';
import { serveStatic } from './static-server';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const shippedModel = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../finetune/assets/pretrained-shakespeare-byte');

async function loadModel(configJson: string, weights: Uint8Array): Promise<Gpt2Model> {
  const model = await loadPretrainedFromBytes({ config: configJson, weights });
  if (!(model instanceof Gpt2Model)) throw new Error('expected a GPT-2');
  return model;
}

async function downloadBytes(page: Page, button: string): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return readFileSync((await download.path())!);
}

describe.skipIf(!CHROMIUM)('the web example in headless Chromium', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof serveStatic>>;
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clipwise-web-'));
    await buildPage(dir);
    server = await serveStatic(dir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000); // the build takes 10-20 s on 2 busy cores

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fine-tunes the shipped model privately on the sample (wasm), stops on Stop, and the download loads back in Node', async () => {
    const page = await browser.newPage({ acceptDownloads: true });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.url);
    await page.click('#use-sample');
    await page.fill('#epsilon', '8');
    await page.fill('#grouping', 'layer-wise');
    await page.fill('#steps', '40');
    await page.fill('#batch-size', '8');
    await page.click('details summary'); // 'more' settings
    await page.selectOption('#backend', 'wasm');
    await page.fill('#eval-limit', '4');
    await page.fill('#gen-tokens', '12');
    await page.click('#train');

    // live numbers after each step; Stop once two steps are in
    await page.waitForFunction(() => Number(document.querySelector('#step-value')?.textContent) >= 2, null, { timeout: 150_000 });
    await page.click('#stop');
    await page.waitForFunction(() => /^(Stopped|Done|Failed)/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 60_000 });
    expect(await page.textContent('#error')).toBe('');
    const statusText = (await page.textContent('#status'))!;
    expect(statusText).toMatch(/^Stopped after \d+ steps, ε = \d+\.\d\d\.$/);
    const steps = Number(/after (\d+) steps/.exec(statusText)![1]);
    expect(steps).toBeGreaterThanOrEqual(2);
    expect(steps).toBeLessThan(40);
    expect(await page.textContent('#backend-value')).toBe('wasm');

    const epsilon = Number(await page.textContent('#epsilon-value'));
    expect(epsilon).toBeGreaterThan(0);
    expect(epsilon).toBeLessThan(8); // stopped early: less than the budget of all 40 steps
    expect(Number(await page.textContent('#loss-value'))).toBeGreaterThan(0);
    expect(await page.textContent('#before-loss')).toMatch(/^\d+\.\d{3} \(perplexity/);
    expect(await page.textContent('#after-loss')).toMatch(/^\d+\.\d{3} \(perplexity/);
    // the charts (Observable Plot SVG): a marker per step for ε and the loss; the 15 layer-wise groups as a heat map
    for (const id of ['loss-chart', 'epsilon-chart']) expect(await page.locator(`#${id} svg g[aria-label="dot"] circle`).count(), id).toBe(steps);
    expect(await page.locator('#clip-chart svg g[aria-label="cell"] rect').count()).toBe(15 * steps);
    const statement = (await page.textContent('#privacy-statement'))!;
    expect(statement).toMatch(new RegExp(`^\\(ε = \\d+\\.\\d{4}, δ = 0\\.00001\\)-differential privacy .* for ${steps} steps of DP-SGD with poisson sampling`));

    const weights = await downloadBytes(page, '#download');
    const configJson = (await downloadBytes(page, '#download-config')).toString('utf8');
    const pageDigest = JSON.parse((await page.getAttribute('#download', 'data-weight-digest'))!) as WeightDigest;
    const model = await loadModel(configJson, weights);
    const nodeDigest = await weightDigest(model.params);
    expect(Object.keys(nodeDigest).sort()).toEqual(Object.keys(pageDigest).sort());
    for (const [name, [sum, sq]] of Object.entries(pageDigest)) {
      expect(nodeDigest[name]![0], name).toBeCloseTo(sum, 9);
      expect(nodeDigest[name]![1], name).toBeCloseTo(sq, 9);
    }
    // and the private steps changed them: not the shipped pretrained weights
    const shipped = await weightDigest((await loadModel(readFileSync(path.join(shippedModel, 'config.json'), 'utf8'), readFileSync(path.join(shippedModel, 'model.safetensors')))).params);
    expect(Object.entries(shipped).some(([name, [sum]]) => Math.abs(sum - nodeDigest[name]![0]) > 1e-6)).toBe(true);
    model.dispose();
    expect(pageErrors).toEqual([]);
  });

  it('trains on a text file the user picks (all-layer clipping: one group, drawn as a line)', async () => {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.url);
    const text = 'Shall I compare thee to a summer\'s day? Thou art more lovely and more temperate. '.repeat(60);
    await page.setInputFiles('#file', { name: 'sonnet.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
    await expect.poll(() => page.textContent('#data-name')).toBe('sonnet.txt (4,860 bytes; the last 10% held out for evaluation)');
    await page.fill('#grouping', 'all-layer');
    await page.fill('#steps', '2');
    await page.fill('#batch-size', '4');
    await page.click('details summary');
    await page.selectOption('#backend', 'wasm');
    await page.fill('#eval-limit', '2');
    await page.fill('#gen-tokens', '8');
    await page.click('#train');
    await page.waitForFunction(() => /^(Stopped|Done|Failed)/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 120_000 });
    expect(await page.textContent('#error')).toBe('');
    expect(await page.textContent('#status')).toMatch(/^Done: 2 private steps, ε = \d+\.\d\d\.$/);
    expect(await page.textContent('#prompt')).toBe(text.slice(Math.floor(text.length * 0.9), Math.floor(text.length * 0.9) + 64));
    expect(await page.locator('#clip-chart svg g[aria-label="line"] path').count()).toBe(1);
    expect(await page.textContent('#privacy-statement')).toMatch(/over 1 group\(s\) \('all-layer'/);
    expect(pageErrors).toEqual([]);
  });

  it('says what is wrong with a bad grouping instead of training', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.fill('#grouping', 'uniform:0');
    await page.click('details summary');
    await page.fill('#eval-limit', '2');
    await page.click('#train');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Failed.', null, { timeout: 60_000 });
    expect(await page.textContent('#error')).toMatch(/grouping 'uniform:0'/);
    expect(await page.isDisabled('#train')).toBe(false);
  });
});
