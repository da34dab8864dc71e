import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RdpAccountant } from '@clipwise/accountant';
import { openSafetensors } from '@clipwise/models/node';
import { checkpointDir } from '../src/train/checkpoint';
import { writeManifest } from '../src/train/checkpoint-manifest';
import { runTrain } from '../src/train/run-train';
import { explicitSettings } from '../src/train/train-config';
import { copyRun, folderDigest, readJson } from './checkpoint-helpers';
import { run, tinyE2E } from './train-helpers';

// A private run of 6 steps (ε = 8, checkpoints at steps 3 and 6), uninterrupted and halted at step 3
// then resumed; the resumed one's step-6 checkpoint is copied after each of its writes, so every cut
// a crash could leave is at hand.
let t: ReturnType<typeof tinyE2E>;
let full: string;
let split: string;
const cuts: { file: string; out: string }[] = [];
const args = (out: string, ...more: string[]) => ['train', '--config', t.config, '--steps', '6', '--epsilon', '8', '--gen-limit', '0', '--out', out, ...more];
const settings = (out: string, ...more: string[]) => {
  const flags: Record<string, unknown> = { config: t.config, steps: '6', epsilon: '8', 'gen-limit': '0', out };
  for (const f of more) flags[f] = true;
  return explicitSettings(flags);
};
const weights = (out: string) => readFileSync(path.join(checkpointDir(out), 'model/model.safetensors'));

beforeAll(async () => {
  t = tinyE2E();
  full = path.join(t.dir, 'full');
  split = path.join(t.dir, 'split');
  expect((await run(args(full))).code).toBe(0);
  expect((await run(args(split, '--halt-after', '3'))).code).toBe(0);
  const snapshots = mkdtempSync(path.join(tmpdir(), 'clipwise-cuts-'));
  // A temporary file of a write that never finished: not part of the checkpoint, and no obstacle.
  writeFileSync(path.join(checkpointDir(split), '.ledger.json.tmp-1-abc'), '{"version":1,"acc');
  await runTrain(settings(split, 'resume'), () => {}, {
    onCheckpointWrite: (file) => {
      const out = path.join(snapshots, String(cuts.length));
      cpSync(split, out, { recursive: true });
      cuts.push({ file, out });
    },
  });
});

describe('clipwise train --resume of an intact checkpoint', () => {
  it('writes the checkpoint in order, the manifest last', () => {
    expect(cuts.map((c) => c.file)).toEqual([
      'manifest.json', 'ledger.json', 'sampler.json', 'noise.json', 'optimizer.safetensors', 'optimizer.json', 'tokenizer.json', 'model/', 'state.json', 'manifest.json',
    ]);
    expect(readJson(path.join(checkpointDir(cuts[0]!.out), 'manifest.json'))).toMatchObject({ step: 3, writing: 6 });
    const manifest = readJson(path.join(checkpointDir(split), 'manifest.json'));
    expect(manifest.step).toBe(6);
    expect(manifest.writing).toBeUndefined();
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual([
      'ledger.json', 'sampler.json', 'noise.json', 'optimizer.safetensors', 'optimizer.json', 'tokenizer.json', 'model/model.safetensors', 'model/config.json', 'state.json',
    ]);
  });

  it('gives the bit-identical weights and the ε of the uninterrupted run, which is the ε of all 6 steps by an independent accountant', () => {
    expect(weights(split).equals(weights(full))).toBe(true);
    const pa = readJson(path.join(full, 'report/privacy.json'));
    const pb = readJson(path.join(split, 'report/privacy.json'));
    expect(pb.steps).toBe(6);
    expect(pb.epsilon).toBe(pa.epsilon);
    // The same 6 steps at (σ, q) charged to a fresh accountant (exact: the same arithmetic on the same numbers).
    const independent = new RdpAccountant().step(pa.noiseMultiplier, 4 / 12, 6).epsilon(1e-5);
    expect(pb.epsilon).toBe(independent);
    expect(pb.epsilon).toBeLessThanOrEqual(8);
    // every logged release (ε, thresholds, noisy clip fractions) equals the uninterrupted run's
    const records = (out: string) => readFileSync(path.join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => ({ ...JSON.parse(l), stepMs: 0 }));
    expect(records(split)).toEqual(records(full));
  });

  it('resumes from a checkpoint cut right after its manifest was marked (no file replaced yet): still intact', async () => {
    const out = copyRun(cuts[0]!.out);
    const r = await run(args(out, '--resume'));
    expect(r.err).toBe('');
    expect(r.out).toMatch(/resumed from \S+ at step 3, ε=/);
    expect(weights(out).equals(weights(full))).toBe(true);
    expect(readJson(path.join(out, 'report/privacy.json')).epsilon).toBe(readJson(path.join(full, 'report/privacy.json')).epsilon);
  });

  it("resumes a checkpoint from before optimizer.safetensors (Adam's moments inline in optimizer.json) to the same weights", async () => {
    const out = copyRun(cuts[0]!.out);
    const dir = checkpointDir(out);
    const st = await openSafetensors(path.join(dir, 'optimizer.safetensors'));
    const inline = new Map<string, unknown>();
    for await (const t of st) inline.set(t.name, { $tensor: { shape: t.shape, dtype: 'float32', data: Array.from(t.data) } });
    await st.close();
    expect(inline.size).toBeGreaterThan(0);
    const withInline = (x: any): any =>
      Array.isArray(x) ? x.map(withInline) : x && typeof x === 'object' ? ('$ref' in x ? inline.get(x.$ref) : Object.fromEntries(Object.entries(x).map(([k, v]) => [k, withInline(v)]))) : x;
    writeFileSync(path.join(dir, 'optimizer.json'), JSON.stringify(withInline(readJson(path.join(dir, 'optimizer.json')))));
    rmSync(path.join(dir, 'optimizer.safetensors'));
    const manifest = readJson(path.join(dir, 'manifest.json'));
    await writeManifest(dir, manifest.step, manifest.files.map((f: { path: string }) => f.path).filter((f: string) => f !== 'optimizer.safetensors'));
    const r = await run(args(out, '--resume'));
    expect(r.err).toBe('');
    expect(weights(out).equals(weights(full))).toBe(true);
    // and its next checkpoint is in the new form
    expect(existsSync(path.join(dir, 'optimizer.safetensors'))).toBe(true);
  });
});

describe('clipwise train --resume of a checkpoint cut at each write', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('cut after write %i: refused as cut, nothing changed', async (k) => {
    const out = copyRun(cuts[k]!.out);
    const before = folderDigest(out);
    const r = await run(args(out, '--resume'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /checkpoint: the checkpoint was cut while being written: the run stopped while replacing the checkpoint of step 3 with one of step 6 \(ledger\.json is already replaced, manifest\.json is not\)/,
    );
    expect(r.err).toMatch(/Fix: delete \S+checkpoint to start over/);
    expect(folderDigest(out)).toEqual(before);
  });

  it('a run cut while writing its first checkpoint leaves an incomplete one, refused with and without --resume', async () => {
    const u = tinyE2E();
    const out = path.join(u.dir, 'out');
    const cut = runTrain(explicitSettings({ config: u.config, steps: '6', epsilon: '8', 'gen-limit': '0', out }), () => {}, {
      onCheckpointWrite: (file) => {
        if (file === 'sampler.json') throw new Error('power cut');
      },
    });
    await expect(cut).rejects.toThrow('power cut');
    expect(existsSync(path.join(checkpointDir(out), 'ledger.json'))).toBe(true);
    const before = folderDigest(out);
    for (const more of [['--resume'], []]) {
      const r = await run(['train', '--config', u.config, '--steps', '6', '--epsilon', '8', '--gen-limit', '0', '--out', out, ...more]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/checkpoint holds an incomplete checkpoint: it has no manifest\.json/);
    }
    expect(folderDigest(out)).toEqual(before);
  });
});

describe('clipwise train --resume without privacy', () => {
  it('resumes a --no-dp run (no ledger needed) to the weights of an uninterrupted one', async () => {
    const u = tinyE2E();
    const base = ['train', '--config', u.config, '--no-dp', '--steps', '4', '--eval-every', '2', '--gen-limit', '0', '--seed', '5'];
    const a = path.join(u.dir, 'a');
    const b = path.join(u.dir, 'b');
    expect((await run([...base, '--out', a])).code).toBe(0);
    expect((await run([...base, '--out', b, '--halt-after', '2'])).code).toBe(0);
    expect(existsSync(path.join(checkpointDir(b), 'ledger.json'))).toBe(false);
    const r = await run([...base, '--out', b, '--resume']);
    expect(r.err).toBe('');
    expect(weights(b).equals(weights(a))).toBe(true);
  });
});
