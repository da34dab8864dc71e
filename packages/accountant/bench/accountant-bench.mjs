// Benchmark of @clipwise/accountant: run `npm run bench` in packages/accountant (builds dist first),
// or `node bench/accountant-bench.mjs` after a build. Prints one table; everything runs on one
// core (Node's main thread). "first" is the first call in this process (includes JIT warm-up),
// "median" the median of the next runs. Every call nudges σ (or q and the target) by ~1e-12 so no
// call is served from the per-(q, σ) RDP cache: the medians are real computations.
import os from 'node:os';
import { calibrateNoise, GdpAccountant, maxSteps, PrvAccountant, RdpAccountant } from '../dist/index.js';

const Q = 256 / 60000; // MNIST, batch 256 (Poisson rate)
const SIGMA = 1.1;
const DELTA = 1e-5;
const RUNS = 5;
let calls = 0;
/** A distinct, negligible nudge per call, so no call reuses another's cached RDP. */
const nudge = () => ++calls * 1e-12;

function time(fn) {
  const start = performance.now();
  const result = fn();
  return { ms: performance.now() - start, result };
}

function measure(name, fn, show) {
  const first = time(fn);
  const rest = [];
  for (let i = 0; i < RUNS; i++) rest.push(time(fn).ms);
  rest.sort((a, b) => a - b);
  return { name, first: first.ms, median: rest[Math.floor(RUNS / 2)], result: show(first.result) };
}

const rows = [
  measure('RDP ε, 1,000,000 steps', () => new RdpAccountant().step(SIGMA + nudge(), Q, 1_000_000).getPrivacySpent(DELTA), (s) => `ε = ${s.epsilon.toFixed(3)} (α = ${s.bestOrder})`),
  measure('RDP ε, 10,000 steps', () => new RdpAccountant().step(SIGMA + nudge(), Q, 10_000).getPrivacySpent(DELTA), (s) => `ε = ${s.epsilon.toFixed(3)} (α = ${s.bestOrder})`),
  measure('PRV ε, 10,000 steps (epsError 0.01)', () => new PrvAccountant().step(SIGMA + nudge(), Q, 10_000).getPrivacySpent(DELTA), (s) => `ε ∈ [${s.epsilonLower.toFixed(3)}, ${s.epsilonUpper.toFixed(3)}], N = ${s.gridSize}`),
  measure('PRV ε, 14,063 steps (60 epochs)', () => new PrvAccountant().step(SIGMA + nudge(), Q, 14_063).getPrivacySpent(DELTA), (s) => `ε ∈ [${s.epsilonLower.toFixed(3)}, ${s.epsilonUpper.toFixed(3)}], N = ${s.gridSize}`),
  measure('GDP ε, 1,000,000 steps', () => new GdpAccountant().step(SIGMA + nudge(), Q, 1_000_000).getPrivacySpent(DELTA), (s) => `ε ≈ ${s.epsilon.toFixed(3)} (μ = ${s.mu.toFixed(3)})`),
  measure('calibrateNoise, RDP, ε = 3, 14,063 steps, tol 1e-4', () => calibrateNoise({ targetEpsilon: 3 + nudge(), delta: DELTA, sampleRate: Q + nudge() * 1e-3, steps: 14_063 }), (r) => `σ = ${r.noiseMultiplier.toFixed(4)} (${r.evaluations} evaluations)`),
  measure('calibrateNoise, PRV, ε = 3, 14,063 steps, tol 1e-3', () => calibrateNoise({ targetEpsilon: 3 + nudge(), delta: DELTA, sampleRate: Q + nudge() * 1e-3, steps: 14_063, accountant: 'prv', tolerance: 1e-3 }), (r) => `σ = ${r.noiseMultiplier.toFixed(4)} (${r.evaluations} evaluations)`),
  measure('maxSteps, RDP, ε = 3, σ = 1.1', () => maxSteps({ targetEpsilon: 3, delta: DELTA, sampleRate: Q, noiseMultiplier: SIGMA + nudge() }), (r) => `${r.steps} steps`),
];

const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
console.log(`@clipwise/accountant benchmark — node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, q = 256/60000, σ = ${SIGMA}, δ = ${DELTA}`);
console.log('');
console.log('| task | first call (ms) | median of next 5 (ms) | result |');
console.log('| --- | ---: | ---: | --- |');
for (const r of rows) console.log(`| ${r.name} | ${fmt(r.first)} | ${fmt(r.median)} | ${r.result} |`);
