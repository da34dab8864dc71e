import { appendFileSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointDir } from '../src/train/checkpoint';
import { copyRun, editSealed, folderDigest, readJson, reseal, writeJson } from './checkpoint-helpers';
import { run, tinyE2E } from './train-helpers';

// Every damage to a checkpoint is refused before anything runs, with its own message, and the run
// folder is left exactly as it was. The checkpoint: a private run halted at step 3 of 6 (ε = 8).
const FILES = [
  'manifest.json', 'state.json', 'ledger.json', 'sampler.json', 'noise.json', 'optimizer.safetensors', 'optimizer.json', 'tokenizer.json', 'model/config.json', 'model/model.safetensors',
];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

let t: ReturnType<typeof tinyE2E>;
let base: string;
const flags = () => ['train', '--config', t.config, '--steps', '6', '--epsilon', '8', '--gen-limit', '0'];

beforeAll(async () => {
  t = tinyE2E();
  base = path.join(t.dir, 'base');
  const r = await run([...flags(), '--out', base, '--halt-after', '3']);
  expect(r.code, r.err).toBe(0);
  expect(readJson(path.join(checkpointDir(base), 'manifest.json')).step).toBe(3);
});

/** Damages a copy of the base run with `damage`, resumes it, and checks the refusal and that nothing changed. */
async function expectRefused(damage: (out: string, dir: string) => void | Promise<void>, message: RegExp): Promise<string> {
  const out = copyRun(base);
  await damage(out, checkpointDir(out));
  const before = folderDigest(out);
  const r = await run([...flags(), '--resume', '--out', out]);
  expect(r.err).toMatch(message);
  expect(r.code).toBe(2);
  expect(r.err).not.toMatch(/Usage:|--help/); // the fix, not the usage text or the usage hint
  expect(r.out).not.toMatch(/resumed from|step 4\//);
  expect(folderDigest(out)).toEqual(before);
  return r.err;
}

/** A same-size edit: the last digit (the manifest: its step) or, in a file without digits, the last lower-case letter; one byte of the weights. */
function edit(dir: string, name: string): void {
  const file = path.join(dir, name);
  if (name.endsWith('.safetensors')) {
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0x40;
    writeFileSync(file, bytes);
  } else if (name === 'manifest.json') {
    const m = readJson(file);
    writeJson(file, { ...m, step: m.step + 1 });
  } else {
    const text = readFileSync(file, 'utf8');
    const i = /\d/.test(text) ? text.search(/\d(?=\D*$)/) : text.search(/[a-z](?=[^a-z]*$)/);
    const c = text[i]!;
    writeFileSync(file, text.slice(0, i) + (/\d/.test(c) ? String((Number(c) + 1) % 10) : c === 'z' ? 'y' : String.fromCharCode(c.charCodeAt(0) + 1)) + text.slice(i + 1));
  }
}

describe('clipwise train --resume refuses a damaged checkpoint file and changes nothing', () => {
  const cases: [string, string][] = FILES.flatMap((f) => [['delete', f], ['truncate', f], ['edit', f]] as [string, string][]);
  it.each(cases)('%s %s', async (kind, name) => {
    const manifest = name === 'manifest.json';
    const message =
      kind === 'delete'
        ? manifest ? /checkpoint holds an incomplete checkpoint: it has no manifest\.json/ : new RegExp(`checkpoint/${escape(name)}: missing; `)
        : kind === 'truncate'
          ? manifest ? /manifest\.json: not valid JSON \(.+ at line 1, column \d+\)/ : new RegExp(`checkpoint/${escape(name)}: has \\d+ bytes, but \\S+manifest\\.json recorded \\d+ \\(truncated`)
          : manifest ? /state\.json: it is at step 3, but \S+manifest\.json at step 4/ : new RegExp(`checkpoint/${escape(name)}: its content changed after the checkpoint was written`);
    await expectRefused((_out, dir) => {
      const file = path.join(dir, name);
      if (kind === 'delete') rmSync(file);
      else if (kind === 'truncate') truncateSync(file, Math.floor(statSync(file).size / 2));
      else edit(dir, name);
    }, message);
  });

  it('the issue: a deleted ledger no longer resumes with ε = 0; the message says what the file held and the fix', async () => {
    const err = await expectRefused((_out, dir) => rmSync(path.join(dir, 'ledger.json')), /ledger\.json: missing; it holds the privacy spent so far/);
    expect(err).toMatch(/Fix: restore the file from a backup of the run folder, or delete \S+checkpoint to start over/);
  });

  it('a deleted ledger whose manifest entry is deleted too is still missed', async () => {
    await expectRefused(async (out, dir) => {
      rmSync(path.join(dir, 'ledger.json'));
      const m = readJson(path.join(dir, 'manifest.json'));
      writeJson(path.join(dir, 'manifest.json'), { ...m, files: m.files.filter((f: { path: string }) => f.path !== 'ledger.json') });
    }, /manifest\.json: it does not list ledger\.json, which the checkpoint needs/);
  });

  it('without --resume, a folder with checkpoint files but no manifest is refused too', async () => {
    const out = copyRun(base);
    rmSync(path.join(checkpointDir(out), 'manifest.json'));
    const before = folderDigest(out);
    const r = await run([...flags(), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/holds an incomplete checkpoint/);
    expect(folderDigest(out)).toEqual(before);
  });
});

describe('clipwise train --resume cross-checks the parts of a checkpoint (edited and resealed)', () => {
  // Each part is edited and the manifest rewritten to match, as if the checkpoint had been saved that
  // way: the parts, not the hashes, must disagree.
  const cases: [string, (out: string) => Promise<void> | void, RegExp][] = [
    ['ledger: fewer steps than the checkpoint', (o) => editSealed(o, 'ledger.json', (l) => ({ ...l, history: [{ ...l.history[0], steps: 2 }] })),
      /ledger\.json: it records 2 steps, but the checkpoint is at step 3 \(state\.json\)/],
    ['ledger: more steps than the checkpoint', (o) => editSealed(o, 'ledger.json', (l) => ({ ...l, history: [{ ...l.history[0], steps: 4 }] })),
      /ledger\.json: it records 4 steps, but the checkpoint is at step 3/],
    ['ledger: another σ', (o) => editSealed(o, 'ledger.json', (l) => ({ ...l, history: [{ ...l.history[0], noiseMultiplier: 2 * l.history[0].noiseMultiplier }] })),
      /ledger\.json: history\[0\] charges σ = [\d.]+, but every step of the run used σ = [\d.]+ \(state\.json\)/],
    ['ledger: another q', (o) => editSealed(o, 'ledger.json', (l) => ({ ...l, history: [{ ...l.history[0], sampleRate: 0.5 }] })),
      /ledger\.json: history\[0\] charges q = 0\.5, but the run samples at q = 0\.333/],
    ['ledger: another accountant', (o) => editSealed(o, 'ledger.json', (l) => ({ ...l, accountant: 'prv' })),
      /ledger\.json: it was written by the 'prv' accountant, but the run uses --accountant rdp/],
    ['ledger: not a ledger', (o) => editSealed(o, 'ledger.json', () => ({ history: [] })), /ledger\.json: not a valid ledger: ledger version must be 1/],
    ['state and ledger: a σ the config does not give', async (o) => {
      await editSealed(o, 'state.json', (s) => ({ ...s, noiseMultiplier: 3 }));
      await editSealed(o, 'ledger.json', (l) => ({ ...l, history: [{ ...l.history[0], noiseMultiplier: 3 }] }));
    }, /ledger\.json: its steps were charged at σ = 3, but the run's config \(--epsilon 8 over 6 steps at q = 0\.333+\d*\) gives σ = [\d.]+: the checkpoint does not belong to this config/],
    ['sampler: another step', (o) => editSealed(o, 'sampler.json', (s) => ({ ...s, step: 2 })), /sampler\.json: it is at step 2, but the checkpoint is at step 3/],
    ['sampler: another seed', (o) => editSealed(o, 'sampler.json', (s) => ({ ...s, seed: 7 })), /sampler\.json: its seed 7 is not the one of the run's --seed 0/],
    ['sampler: not a sampler state', (o) => editSealed(o, 'sampler.json', (s) => ({ ...s, rng: null })), /sampler\.json: it is not a sampler state/],
    ['noise: a draw too many', (o) => editSealed(o, 'noise.json', (n) => ({ ...n, noise: { ...n.noise, draws: n.noise.draws + 1 } })),
      /noise\.json: its noise stream has made 49 draws, but 3 steps of this 16-parameter-tensor model make 48/],
    ['noise: clip counts a step behind', (o) => editSealed(o, 'noise.json', (n) => ({ ...n, clipCounts: { ...n.clipCounts, steps: n.clipCounts.steps - 1 } })),
      /noise\.json: its clip counts are at step 2 \(3 count-noise draws\), but the checkpoint is at step 3/],
    ['noise: clip counts missing', (o) => editSealed(o, 'noise.json', (n) => ({ noise: n.noise })), /noise\.json: it lacks the clip-count noise stream of private diagnostics, but the run uses --diagnostics private/],
    ['noise: another seed', (o) => editSealed(o, 'noise.json', (n) => ({ noise: { ...n.noise, seed: 9 } })), /noise\.json: its noise seed 9 is not the one of the run's --seed 0/],
    ['noise: null in a private run', (o) => editSealed(o, 'noise.json', () => null), /noise\.json: it is not a noise state/],
    ['optimizer: another step', (o) => editSealed(o, 'optimizer.json', (s) => JSON.parse(JSON.stringify(s).replace(/"count":3/g, '"count":2'))),
      /optimizer\.json: it is at step 2, but the checkpoint \(weights and state\.json\) is at step 3: the optimizer state belongs to another step/],
    ['optimizer: a tensor of another shape', (o) => editSealed(o, 'optimizer.json', (s) => {
      s[0].mu['transformer.wte.weight'].$ref = s[0].mu['transformer.h.0.ln_1.bias'].$ref;
      return s;
    }), /optimizer\.json: it cannot be restored: optimizer state state\[0\]\.mu\.transformer\.wte\.weight: expected a tensor of shape \[\d+,\d+\], got \[\d+\]/],
    ['optimizer: a tensor the tensors file lacks', (o) => editSealed(o, 'optimizer.json', (s) => {
      s[0].nu['transformer.wte.weight'].$ref = 'no such tensor';
      return s;
    }), /optimizer\.json: it cannot be restored: optimizer state state\[0\]\.nu\.transformer\.wte\.weight: the tensor 'no such tensor' it refers to is not among the saved tensors/],
    ['optimizer: its tensors file deleted and unlisted', (o) => {
      const dir = checkpointDir(o);
      rmSync(path.join(dir, 'optimizer.safetensors'));
      const m = readJson(path.join(dir, 'manifest.json'));
      writeJson(path.join(dir, 'manifest.json'), { ...m, files: m.files.filter((f: { path: string }) => f.path !== 'optimizer.safetensors') });
    }, /manifest\.json: it does not list optimizer\.safetensors, which the checkpoint needs/],
    ['tokenizer: no vocabulary for --tokenizer word', (o) => editSealed(o, 'tokenizer.json', () => null), /tokenizer\.json: it is not a word vocabulary/],
    ['model: weights of another architecture', (o) => editSealed(o, 'model/config.json', (c) => ({ ...c, n_layer: 2 })), /checkpoint\/model\/: it cannot be restored: /],
    ['state: another step than the manifest', (o) => editSealed(o, 'state.json', (s) => ({ ...s, step: 2 })),
      /state\.json: it is at step 2, but \S+manifest\.json at step 3/],
    ['data: the training file changed', (o) => {
      appendFileSync(readJson(path.join(checkpointDir(o), 'state.json')).config.data, '\n"name[Cotto], food[Thai]","Cotto serves Thai food."');
    }, /--data \S+train\.csv now gives 13 training examples, but the checkpoint's sampler \(\S+sampler\.json\) draws from 12: the data changed/],
  ];
  it.each(cases)('%s', async (_name, damage, message) => {
    if (_name.startsWith('data')) {
      // The data file is shared with the base run: change it for this case only.
      const file = readJson(path.join(checkpointDir(base), 'state.json')).config.data;
      const text = readFileSync(file, 'utf8');
      try {
        await expectRefused(damage, message);
      } finally {
        writeFileSync(file, text);
      }
      return;
    }
    await expectRefused(damage, message);
  });

  it('an untouched copy, resealed, still resumes (the cases above change one thing each)', async () => {
    const out = copyRun(base);
    await reseal(out);
    const r = await run([...flags(), '--resume', '--out', out]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/resumed from \S+ at step 3, ε=/);
  });
});
