export * from './norm-kernel';
export * from './cross-terms';
export * from './kernels/linear';
export * from './kernels/embedding';
export * from './kernels/layer-norm';
export * from './kernels/positional';
export * from './brute-force';
export * from './param-sq-norms';
