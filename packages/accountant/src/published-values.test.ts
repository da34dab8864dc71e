/**
 * Values printed in other projects' documentation and papers, reproduced with this package. Each
 * states its source, the exact setting (sampling rate, steps, orders, conversion) and the tolerance,
 * which is half a unit in the last published digit unless said otherwise.
 */
import { describe, expect, it } from 'vitest';
import { GdpAccountant } from './accountants/gdp-accountant';
import { PrvAccountant } from './accountants/prv-accountant';
import { RdpAccountant } from './accountants/rdp-accountant';
import { gdpEpsilon } from './analysis/gdp';
import { computeRdp } from './analysis/rdp';
import { rdpToEpsilon } from './analysis/rdp-conversion';

const MNIST_Q = 256 / 60000;
const stepsFor = (epochs: number) => Math.ceil((epochs * 60000) / 256); // as compute_dp_sgd_privacy.py
// TF Privacy's compute_dp_sgd_privacy.py (2019) orders, and its tutorials' compute_epsilon orders.
const TFP_SCRIPT_ORDERS = [1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, ...Array.from({ length: 59 }, (_, i) => 5 + i), 128, 256, 512];
const TFP_TUTORIAL_ORDERS = [...Array.from({ length: 99 }, (_, k) => (11 + k) / 10), ...Array.from({ length: 52 }, (_, i) => 12 + i)];

describe('TF Privacy (classic conversion ε = r + log(1/δ)/(α-1), Mironov 2017)', () => {
  it('compute_dp_sgd_privacy docstring: N=60000, batch 256, σ=1.12, 60 epochs, δ=1e-5 → ε = 2.92', () => {
    const rdp = computeRdp(MNIST_Q, 1.12, stepsFor(60), TFP_SCRIPT_ORDERS);
    expect(Math.abs(rdpToEpsilon(TFP_SCRIPT_ORDERS, rdp, 1e-5, 'classic').epsilon - 2.92)).toBeLessThan(0.005);
  });

  it.each([
    [1.1, 60, 3.01],
    [1.3, 15, 1.19],
    [0.7, 45, 7.1],
  ])('tutorials/README.md table: σ=%f, %i epochs, δ=1e-5 → ε = %f', (sigma, epochs, published) => {
    const rdp = computeRdp(MNIST_Q, sigma, stepsFor(epochs), TFP_TUTORIAL_ORDERS);
    expect(Math.abs(rdpToEpsilon(TFP_TUTORIAL_ORDERS, rdp, 1e-5, 'classic').epsilon - published)).toBeLessThan(0.005);
  });
});

describe('Opacus (Balle et al. 2020 conversion)', () => {
  it('compute_dp_sgd_privacy docs: q=0.01, σ=1.0, 300 steps, α ∈ {2,5,10,20,100}, δ=1e-5 → ε = 2.39 at α = 5', () => {
    const acc = new RdpAccountant({ orders: [2, 5, 10, 20, 100] }).step(1.0, 0.01, 300);
    const spent = acc.getPrivacySpent(1e-5);
    expect(Math.abs(spent.epsilon - 2.39)).toBeLessThan(0.005);
    expect(spent.bestOrder).toBe(5);
  });
});

describe('Gaussian DP (Bu, Dong, Long & Su 2020)', () => {
  it('compute_muP docstring: N=60000, batch 256, σ=1.3, 15 epochs (T = 15·60000/256) → μ = 0.227', () => {
    const spent = new GdpAccountant().step(1.3, MNIST_Q, 1).getPrivacySpent(1e-5);
    // T is fractional in their formula; μ scales as √T.
    expect(Math.abs(spent.mu * Math.sqrt((15 * 60000) / 256) - 0.227)).toBeLessThan(0.0005);
  });

  it('HDSR Fig. 4: μ = 0.35 ↔ (1.34, 1e-5)-DP', () => {
    expect(Math.abs(gdpEpsilon(1e-5, 0.35) - 1.34)).toBeLessThan(0.005);
  });
});

describe('this package on the MNIST setting (N=60000, batch 256, σ=1.1, 60 epochs, δ=1e-5)', () => {
  it('RDP (default orders, Balle conversion) ≈ 2.597; PRV (epsError 0.05) bracket below it; GDP approximation lower still', () => {
    const T = stepsFor(60);
    const rdp = new RdpAccountant().step(1.1, MNIST_Q, T).getPrivacySpent(1e-5);
    expect(rdp.epsilon).toBeCloseTo(2.5967, 4);
    expect(rdp.bestOrder).toBe(8.1);
    const prv = new PrvAccountant({ epsError: 0.05 }).step(1.1, MNIST_Q, T).getPrivacySpent(1e-5);
    expect(prv.epsilonUpper).toBeLessThan(rdp.epsilon);
    expect(prv.epsilonLower).toBeGreaterThan(2.25);
    const gdp = new GdpAccountant().step(1.1, MNIST_Q, T).epsilon(1e-5);
    expect(gdp).toBeLessThan(prv.epsilonUpper);
  });
});
