/** The parts of a WebGPU adapter this patch touches. */
interface AdapterLike {
  readonly limits?: { readonly maxStorageBuffersPerShaderStage?: number };
  requestDevice(descriptor?: { requiredLimits?: Record<string, number> } & Record<string, unknown>): Promise<unknown>;
}

/** A `navigator.gpu`-like object (Dawn's, from the `webgpu` package). */
interface GpuLike {
  requestAdapter(options?: unknown): Promise<unknown>;
}

/**
 * Makes every device created through `gpu` ask for the adapter's whole
 * `maxStorageBuffersPerShaderStage` (TF.js's webgpu backend asks for its few limits only, so its
 * device keeps WebGPU's default 8). Multi-tensor kernels bind one buffer per tensor
 * (`storageBindingsPerDispatch`): lavapipe's 16 halve the launches of the optimizer update and the
 * noise. Patches `gpu` in place (Dawn's objects are native: a wrapper would fail their brand checks).
 *
 * @example
 * const gpu = requestAllStorageBindings(webgpu.create([]));
 * Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
 */
export function requestAllStorageBindings<G extends GpuLike>(gpu: G): G {
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = async (options?: unknown) => {
    const adapter = (await requestAdapter(options)) as AdapterLike | null;
    const most = adapter?.limits?.maxStorageBuffersPerShaderStage;
    if (adapter && most !== undefined) {
      const requestDevice = adapter.requestDevice.bind(adapter);
      adapter.requestDevice = (descriptor = {}) =>
        requestDevice({ ...descriptor, requiredLimits: { ...descriptor.requiredLimits, maxStorageBuffersPerShaderStage: most } });
    }
    return adapter;
  };
  return gpu;
}
