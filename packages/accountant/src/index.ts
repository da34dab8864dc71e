// @clipwise/accountant: privacy accountants for the Poisson-subsampled Gaussian mechanism.
export * from './errors';
export type { HistoryEntry } from './history';
export * from './accountants/accountant';
export * from './accountants/rdp-accountant';
export * from './accountants/prv-accountant';
export * from './accountants/gdp-accountant';
export * from './accountants/registry';
export * from './ledger';
export { parseLedger, LEDGER_VERSION } from './ledger-format';
export * from './calibration';
export { DEFAULT_RDP_ORDERS } from './analysis/rdp-orders';
export { computeRdp, subsampledGaussianRdp } from './analysis/rdp';
export * from './analysis/rdp-conversion';
export { gdpMu, gdpDelta, gdpEpsilon } from './analysis/gdp';
export { composeHistory, prvEpsilonBounds } from './analysis/prv/compute-prv';
export type { PrvComposition, PrvEpsilonBounds } from './analysis/prv/compute-prv';
export * from './gaussian-composition';
export * from './audit';
