import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// scripts/vit-peft-select.sh and scripts/peft-pick.mjs: the learning-rate picks and the device-friendly
// output, with a stand-in for the CLI (no training) whose validation accuracy is set per run below.
const root = path.resolve(__dirname, '../../..');
const scripts = path.join(root, 'apps/finetune/scripts');

/** A run folder as `clipwise train` leaves it: report/metrics.json with the eval accuracy and loss. */
function writeRun(dir: string, name: string, accuracy: number, loss: number): void {
  mkdirSync(path.join(dir, name, 'report'), { recursive: true });
  writeFileSync(path.join(dir, name, 'report', 'metrics.json'), JSON.stringify({ evalAccuracy: accuracy, evalLoss: loss }));
}

const pick = (dir: string) => execFileSync(process.execPath, [path.join(scripts, 'peft-pick.mjs'), 'select', dir], { encoding: 'utf8' });

describe('peft-pick.mjs select', () => {
  it('picks by validation accuracy, breaks a tie by the lower validation loss and says so', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'peft-pick-'));
    writeRun(dir, 'select-full-all-layer-lr2e-3', 0.522, 1.406);
    writeRun(dir, 'select-full-all-layer-lr4e-3', 0.578, 1.468);
    writeRun(dir, 'select-full-all-layer-lr8e-3', 0.578, 1.431);
    writeRun(dir, 'select-full-all-layer-lr1.6e-2', 0.57, 1.499);
    writeRun(dir, 'select-lora-all-layer-lr8e-3', 0.632, 1.34);
    writeRun(dir, 'select-lora-layer-wise-lr8e-3', 0.568, 1.489);
    const out = pick(dir);
    expect(out).toMatch(/^pick full all-layer 8e-3$/m);
    expect(out).toMatch(/note: full's pick ties on validation accuracy with all-layer 4e-3; the lower validation loss decided/);
    expect(out).toMatch(/^pick lora all-layer 8e-3$/m);
    expect(out).not.toMatch(/lora's pick ties/);
    // full's 8e-3 lies inside its grid (1.6e-2 above it): no edge note; LoRA's grid is one rate
    expect(out).not.toMatch(/note: full all-layer's pick .* is the (largest|smallest)/);
  });

  it("notes a pick on its grid's edge", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'peft-pick-'));
    writeRun(dir, 'select-full-all-layer-lr1e-3', 0.43, 1.5);
    writeRun(dir, 'select-full-all-layer-lr4e-3', 0.58, 1.4);
    writeRun(dir, 'select-lora-all-layer-lr4e-3', 0.6, 1.3);
    expect(pick(dir)).toMatch(/note: full all-layer's pick 4e-3 is the largest lr of its grid \(0\.001, 0\.004\): extend the grid past it/);
  });
});

describe('vit-peft-select.sh with WORK', () => {
  it('keeps the runs in WORK and writes only picks, results and one archive to OUT', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'peft-select-'));
    const [data, out, work] = ['data', 'out', 'work'].map((d) => path.join(tmp, d));
    // a pre-trained model and the validation split present: the script makes neither
    mkdirSync(path.join(data!, 'vit-public'), { recursive: true });
    writeFileSync(path.join(data!, 'vit-public', 'config.json'), '{}');
    writeFileSync(path.join(data!, 'cifar-private-val.tar.gz'), '');
    // the stand-in CLI: validation accuracy peaks at lr 4e-3 (full) and 8e-3 (LoRA); the seed nudges it
    const cli = path.join(tmp, 'fake-cli.sh');
    writeFileSync(
      cli,
      `shift; out=; lr=; seed=0; lora=0
while [ $# -gt 0 ]; do case $1 in --out) out=$2; shift;; --lr) lr=$2; shift;; --seed) seed=$2; shift;; --lora-rank) lora=1;; esac; shift; done
best=$([ $lora = 1 ] && echo 0.008 || echo 0.004)
acc=$(awk -v lr=$lr -v b=$best -v s=$seed 'BEGIN { d = log(lr / b) / log(2); if (d < 0) d = -d; print 0.6 - 0.05 * d + 0.001 * s }')
mkdir -p "$out/report"; echo "{\\"evalAccuracy\\":$acc,\\"evalLoss\\":1.3}" > "$out/report/metrics.json"
`,
    );
    execFileSync('bash', [path.join(scripts, 'vit-peft-select.sh'), data!, out!], {
      env: { ...process.env, CLIPWISE_CLI: `bash ${cli}`, WORK: work!, FULL_LRS: '2e-3 4e-3 8e-3', LORA_LRS: '4e-3 8e-3 1.6e-2' },
      encoding: 'utf8',
    });
    expect(readFileSync(path.join(out!, 'picks.txt'), 'utf8')).toMatch(/pick full all-layer 4e-3\npick lora (all-layer|layer-wise) 8e-3/);
    const results = readFileSync(path.join(out!, 'results.txt'), 'utf8');
    expect(results).toMatch(/\| full all-layer 4e-3: accuracy % \| 60\.00 \| 60\.10 \| 60\.20 \| 60\.30 \| 60\.40 \| 60\.20 ± 0\.16 \|/);
    const archived = execFileSync('tar', ['-tzf', path.join(out!, 'runs.tgz')], { encoding: 'utf8' }).split('\n').filter(Boolean);
    // 3 + 6 selection runs and 10 test runs: a log and a metrics file each
    expect(archived.filter((f) => f.endsWith('.log'))).toHaveLength(19);
    expect(archived.filter((f) => f.endsWith('report/metrics.json'))).toHaveLength(19);
    expect(execFileSync('ls', [out!], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual(['picks.txt', 'results.txt', 'runs.tgz']);
  });
});
