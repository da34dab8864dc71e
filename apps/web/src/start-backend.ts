// Starts TF.js in the worker. The backends it may pick are imported here so the bundle has them. The
// wasm backend's binaries are files the page serves: Vite copies them into the build (the `?url`
// imports) and `setWasmPaths` tells the backend where they are.
import { setupBackend, type BackendChoice } from '@clipwise/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});

/** 'auto': the page's WebGPU where the browser has a GPU adapter, else wasm, else cpu; 'wasm' and 'cpu' as named. */
export function startBackend(name: 'auto' | 'wasm' | 'cpu'): Promise<BackendChoice> {
  return setupBackend(name);
}
