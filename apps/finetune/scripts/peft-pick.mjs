// The learning-rate picks and the seed table of scripts/vit-peft-select.sh, from its runs' report/metrics.json.
//   node apps/finetune/scripts/peft-pick.mjs select OUT   # validation accuracy per run; "pick FAMILY GROUPING LR" per family
//   node apps/finetune/scripts/peft-pick.mjs test OUT     # test accuracy and loss per seed, mean ± sd, and the paired difference
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const [phase, out] = process.argv.slice(2);
if (!['select', 'test'].includes(phase) || !out) {
  console.error('usage: peft-pick.mjs select|test OUT');
  process.exit(2);
}
/** Runs of a phase: name → { family, grouping, lr, seed, accuracy, loss }, from names like test-lora-layer-wise-lr8e-3-s2. */
const runs = readdirSync(out)
  .filter((d) => d.startsWith(`${phase}-`) && !d.endsWith('.log'))
  .map((d) => {
    const m = /^(select|test)-(full|lora)-(all-layer|layer-wise)-lr([^-]+(?:-[0-9]+)?)(?:-s([0-9]+))?$/.exec(d);
    if (!m) throw new Error(`peft-pick: run folder '${d}' is not named as vit-peft-select.sh names them`);
    const file = path.join(out, d, 'report', 'metrics.json');
    const metrics = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
    return { name: d, family: m[2], grouping: m[3], lr: m[4], seed: m[5] === undefined ? 0 : Number(m[5]), accuracy: metrics?.evalAccuracy ?? null, loss: metrics?.evalLoss ?? null };
  });
const failed = runs.filter((r) => r.accuracy === null).map((r) => r.name);
if (failed.length > 0) console.log(`runs with no report (failed or unfinished): ${failed.join(', ')}`);
const pct = (x) => (100 * x).toFixed(2);
if (phase === 'select') {
  console.log('| family | grouping | lr | validation accuracy % | validation loss |');
  console.log('| --- | --- | ---: | ---: | ---: |');
  for (const r of runs) console.log(`| ${r.family} | ${r.grouping} | ${r.lr} | ${r.accuracy === null ? '–' : pct(r.accuracy)} | ${r.loss === null ? '–' : r.loss.toFixed(3)} |`);
  for (const family of ['full', 'lora']) {
    const done = runs.filter((r) => r.family === family && r.accuracy !== null);
    if (done.length === 0) throw new Error(`peft-pick: no finished ${family} run to pick from`);
    // by validation accuracy; a tie (500 images make them common) goes to the lower validation loss
    const better = (b, a) => b.accuracy > a.accuracy || (b.accuracy === a.accuracy && b.loss < a.loss);
    const best = done.reduce((a, b) => (better(b, a) ? b : a));
    console.log(`pick ${family} ${best.grouping} ${best.lr}`);
    const tied = done.filter((r) => r !== best && r.accuracy === best.accuracy);
    if (tied.length > 0) console.log(`note: ${family}'s pick ties on validation accuracy with ${tied.map((r) => `${r.grouping} ${r.lr}`).join(', ')}; the lower validation loss decided (then the folder order)`);
    // a pick on the smallest or largest rate its grouping tried may have a better rate outside the grid
    const grid = runs.filter((r) => r.family === family && r.grouping === best.grouping).map((r) => Number(r.lr));
    const at = Number(best.lr) === Math.max(...grid) ? 'largest' : Number(best.lr) === Math.min(...grid) ? 'smallest' : null;
    if (grid.length > 1 && at) console.log(`note: ${family} ${best.grouping}'s pick ${best.lr} is the ${at} lr of its grid (${[...grid].sort((a, b) => a - b).join(', ')}): extend the grid past it`);
  }
} else {
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = (xs) => Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
  const configs = [...new Set(runs.map((r) => `${r.family} ${r.grouping} ${r.lr}`))];
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  console.log(`| configuration | ${seeds.map((s) => `seed ${s}`).join(' | ')} | mean ± sd |`);
  console.log(`| --- | ${seeds.map(() => '---:').join(' | ')} | ---: |`);
  const bySeed = {};
  for (const c of configs) {
    const rs = seeds.map((s) => runs.find((r) => `${r.family} ${r.grouping} ${r.lr}` === c && r.seed === s));
    bySeed[c] = rs.map((r) => r?.accuracy ?? null);
    const accs = bySeed[c].filter((x) => x !== null);
    console.log(`| ${c}: accuracy % | ${bySeed[c].map((x) => (x === null ? '–' : pct(x))).join(' | ')} | ${accs.length ? `${pct(mean(accs))} ± ${pct(sd(accs))}` : '–'} |`);
    const losses = rs.map((r) => r?.loss ?? null);
    const ls = losses.filter((x) => x !== null);
    console.log(`| ${c}: test loss | ${losses.map((x) => (x === null ? '–' : x.toFixed(3))).join(' | ')} | ${ls.length ? `${mean(ls).toFixed(3)} ± ${sd(ls).toFixed(3)}` : '–'} |`);
  }
  const [full, lora] = ['full', 'lora'].map((f) => configs.find((c) => c.startsWith(f)));
  if (full && lora) {
    const d = seeds.map((_, k) => (bySeed[lora][k] !== null && bySeed[full][k] !== null ? bySeed[lora][k] - bySeed[full][k] : null)).filter((x) => x !== null);
    if (d.length > 1) console.log(`LoRA − full, paired by seed: ${pct(mean(d))} points (standard error ${pct(sd(d) / Math.sqrt(d.length))}; ${d.map(pct).join(', ')})`);
  }
}
