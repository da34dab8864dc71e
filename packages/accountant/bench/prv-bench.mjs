// PRV accountant benchmark: ε of 10,000 Poisson-subsampled Gaussian steps (discretise, compose by
// FFT, read ε and its bounds). Run `npm run bench:prv` in packages/accountant (builds dist first), or
// `node bench/prv-bench.mjs` after a build. One core (Node's main thread). "first" is the first call
// in this process (JIT warm-up included), "median" the median of the next RUNS calls; each call
// nudges σ by ~1e-12 so nothing is served from a cache.
import os from 'node:os';
import { PrvAccountant } from '../dist/index.js';

const DELTA = 1e-5;
const RUNS = Number(process.env.RUNS ?? 5);
let calls = 0;
const nudge = () => ++calls * 1e-12;

const CASES = [
  { name: 'MNIST: q = 256/60000, σ = 1.1', q: 256 / 60000, sigma: 1.1, steps: 10_000, epsError: 0.01 },
  { name: 'issue #17: q = 0.05, σ = 0.8', q: 0.05, sigma: 0.8, steps: 10_000, epsError: 0.2 },
  { name: 'issue #17: q = 0.05, σ = 0.8', q: 0.05, sigma: 0.8, steps: 10_000, epsError: 0.01 },
];

function run(c) {
  const start = performance.now();
  const spent = new PrvAccountant({ epsError: c.epsError }).step(c.sigma + nudge(), c.q, c.steps).getPrivacySpent(DELTA);
  return { ms: performance.now() - start, spent };
}

const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
console.log(`PRV benchmark — node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, T = 10,000, δ = ${DELTA}`);
console.log('');
console.log('| case | eps error asked | eps error used | grid N | first call (ms) | median of next ' + RUNS + ' (ms) | ε lower / estimate / upper |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
for (const c of CASES) {
  let first;
  try {
    first = run(c);
  } catch (e) {
    console.log(`| ${c.name} | ${c.epsError} | — | — | — | — | refused: ${e.message.split(';')[0]} |`);
    continue;
  }
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(run(c).ms);
  times.sort((a, b) => a - b);
  const s = first.spent;
  const used = s.epsError;
  console.log(
    `| ${c.name} | ${c.epsError} | ${Number(used.toPrecision(3))} | ${s.gridSize} | ${fmt(first.ms)} | ${fmt(times[Math.floor(RUNS / 2)])} | ` +
      `${s.epsilonLower.toFixed(3)} / ${s.epsilonEstimate.toFixed(3)} / ${s.epsilonUpper.toFixed(3)} |`,
  );
}
