export * from './errors';
export * from './phases';
export * from './measure/engine-profile';
// kept for callers of memory's own (moved to core, where the matmul tuning needs it too)
export { syncDevice } from '@clipwise/core';
export * from './measure/phase-probe';
export * from './measure/kernel-probe';
export * from './measure/measure-step';
export * from './measure/host-writes';
export * from './measure/device-waits';
export * from './measure/gpu-passes';
export * from './measure/kernel-summary';
export * from './trace/tape-trace';
export * from './trace/scale-trace';
export * from './model/layer-costs';
export * from './model/simulate-step';
