import { geluErf as coreGeluErf, geluTanh as coreGeluTanh } from '@clipwise/core';

/** GPT-2's `gelu_new`: 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³))); core's fused form (one WGSL kernel each way on webgpu). */
export const geluTanh = coreGeluTanh;

/** Exact GELU (ViT): 0.5 x (1 + erf(x / √2)); core's fused form (one WGSL kernel each way on webgpu). */
export const geluErf = coreGeluErf;
