import { installWasmCopyKernels } from './register-wasm-copies';
import { installWasmEqualKernel } from './register-wasm-equal';
import { installWasmMatmulKernels } from './register-wasm-matmul';
import { installWasmPowKernel } from './register-wasm-pow';
import { installWasmReductionKernels } from './register-wasm-reductions';

/**
 * Puts core's wasm kernels in front of TF.js's where its own take a slow path: transposed and
 * batched matmuls, Pow by libm, Slice/SplitV/GatherV2 copies, Sums over leading or middle axes, and
 * broadcast Equal. Each runs TF.js's kernel while fused kernels are off (the "before" of a bench).
 * Idempotent; `setupBackend('wasm')` calls it. False if one could not be installed.
 */
export function installWasmKernels(): boolean {
  return [installWasmMatmulKernels(), installWasmPowKernel(), installWasmCopyKernels(), installWasmReductionKernels(), installWasmEqualKernel()].every(Boolean);
}
