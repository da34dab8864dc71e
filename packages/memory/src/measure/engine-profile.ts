import * as tf from '@tensorflow/tfjs-core';
import { gpuPoolStats } from '@clipwise/core';

interface ProfilingEngine {
  state: { profiling: boolean; activeProfile: { kernels: unknown[] } };
}

/**
 * Number of kernels the running `tf.profile` has logged so far, or -1 when none runs. The profile's
 * kernel list is the step's memory timeline (bytes after each kernel); this index places a probe's
 * phase marks on it. Reads tfjs-core 4.x engine state, which the public API does not expose.
 */
export function profiledKernelCount(): number {
  const state = (tf.engine() as unknown as ProfilingEngine).state;
  return state?.profiling ? state.activeProfile.kernels.length : -1;
}

/**
 * Device buffer bytes where the backend reports them (webgpu): in use and allocated (pool included)
 * now, and with core's size-class pool the high-water marks since `resetGpuPoolPeaks` too.
 */
export interface BackendBuffers {
  readonly inUse: number;
  readonly allocated: number;
  /** Most bytes in use at once (every live buffer counted once, whatever views share it). */
  readonly peakInUse?: number;
  /** Most bytes the pool held at once: what the device had to give. */
  readonly peakAllocated?: number;
}

/** The backend's buffer statistics (see `BackendBuffers`), or null where it has none (cpu, wasm). */
export function backendBufferBytes(): BackendBuffers | null {
  const pool = gpuPoolStats();
  if (pool) return pool;
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  if (typeof m.numBytesInGPU !== 'number') return null;
  return { inUse: m.numBytesInGPU, allocated: m.numBytesAllocatedInGPU ?? m.numBytesInGPU };
}

