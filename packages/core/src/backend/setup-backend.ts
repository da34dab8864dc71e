import * as tf from '@tensorflow/tfjs-core';
import '../tfjs-setup';
import '@tensorflow/tfjs-backend-cpu';
import { ClipwiseConfigError } from '../errors';
import { useQueueWriteUploads } from '../webgpu/queue-write-uploads';
import { useLeanDispatch } from '../webgpu/lean-dispatch';
import { useSizeClassPool } from '../webgpu/use-size-class-pool';
import { installMatmulKernels } from '../webgpu/matmul/register-matmul';
import { watchDeviceErrors } from '../webgpu/device-errors';
import { installWasmKernels } from '../wasm/install-wasm-kernels';
import { checkWasmThreads, defaultWasmThreads, withNodeWasmThreads } from '../wasm/node-wasm-threads';
import { requestAllStorageBindings } from './request-all-storage-bindings';

/** The names `setupBackend` takes (what a `--backend` flag may say). */
export const BACKEND_NAMES = ['auto', 'cpu', 'wasm', 'webgpu', 'tensorflow'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendChoice {
  /** The TF.js backend now active. */
  readonly backend: string;
  /** Why it was chosen (for logs and reports). */
  readonly reason: string;
  /** Threads the backend computes on, where it says (wasm's XNNPACK pool); 1 otherwise. */
  readonly threads: number;
  /**
   * webgpu in Node on a software adapter (Mesa's lavapipe, SwiftShader): its name. Timings there say
   * nothing about a GPU, so what tunes by timing (`clipwise bench`'s matmul tuning) skips it.
   */
  readonly softwareAdapter?: string;
}

export interface BackendOptions {
  /**
   * Threads for the wasm backend in Node (1–8): TF.js's threaded SIMD build, which TF.js itself
   * leaves off in Node. Default: CLIPWISE_WASM_THREADS, else every core (`os.availableParallelism()`).
   * Fixed once wasm has started in a process. In a browser TF.js decides (threads need a
   * cross-origin-isolated page).
   */
  readonly wasmThreads?: number;
  /**
   * webgpu in Node (Dawn): keep WebGPU's robustness, the bounds check Tint adds to every buffer
   * access of every shader. Default off (CLIPWISE_DAWN_ROBUSTNESS=on turns it on): it guards a browser
   * against untrusted pages' shaders, while here every shader is this process's own (TF.js's, and
   * Clipwise's, which bound their own indices), as a CUDA kernel has no such checks. Off, a ViT-B/16
   * private step on an H200 took 186–188 ms instead of 207, the non-private one 147–150 instead of 172.
   * In a browser the page's WebGPU decides.
   */
  readonly webgpuRobustness?: boolean;
}

async function importOptional(name: string): Promise<unknown> {
  // A variable specifier keeps bundlers from resolving optional packages at build time.
  const spec = name;
  return import(/* @vite-ignore */ spec);
}

function env(name: string): string | undefined {
  return typeof process !== 'undefined' ? process.env[name] : undefined;
}

/** Whether Dawn keeps its robustness: the option, else CLIPWISE_DAWN_ROBUSTNESS (on/off), else off. */
export function dawnRobustness(option?: boolean): boolean {
  if (option !== undefined) return option;
  const v = env('CLIPWISE_DAWN_ROBUSTNESS');
  if (v === undefined || v === '' || v === 'off') return false;
  if (v === 'on') return true;
  throw new ClipwiseConfigError(`CLIPWISE_DAWN_ROBUSTNESS must be on or off, got '${v}'`);
}

/**
 * Dawn start-up flags: CLIPWISE_DAWN_FLAGS, space-separated (e.g.
 * `enable-dawn-features=allow_unsafe_apis`), with `disable_robustness` added to the enabled
 * features unless `robustness` is kept, and `timestamp_quantization` added to the disabled ones
 * unless the flags enable it: Dawn rounds GPU timestamps to 65.5 µs by default (a browser's guard
 * against timing attacks, pointless in Node), which made kernel profiles of short launches and the
 * bench's pass times coarse.
 */
export function dawnFlags(robustness = dawnRobustness()): string[] {
  const flags = (env('CLIPWISE_DAWN_FLAGS') ?? '').split(/\s+/).filter(Boolean);
  const listed = (prefix: string, feature: string) => flags.some((f) => f.startsWith(prefix) && f.slice(prefix.length).split(',').includes(feature));
  if (!listed('enable-dawn-features=', 'timestamp_quantization')) addFeature(flags, 'disable-dawn-features=', 'timestamp_quantization');
  if (!robustness) addFeature(flags, 'enable-dawn-features=', 'disable_robustness');
  return flags;
}

/** Adds `feature` to the flag `prefix` (e.g. `enable-dawn-features=`) lists, making the flag if there is none. */
function addFeature(flags: string[], prefix: string, feature: string): void {
  const i = flags.findIndex((f) => f.startsWith(prefix));
  if (i < 0) {
    flags.push(prefix + feature);
    return;
  }
  const features = flags[i]!.slice(prefix.length).split(',').filter(Boolean);
  if (!features.includes(feature)) flags[i] = prefix + [...features, feature].join(',');
}

/** Node (or Bun/Deno's Node layer): backends come from npm packages, WebGPU from Dawn. */
function inNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

interface BrowserGpu {
  requestAdapter(): Promise<unknown>;
}

/** The page's own WebGPU (`navigator.gpu`), outside Node only. */
function browserGpu(): BrowserGpu | undefined {
  if (inNode()) return undefined;
  return (globalThis as { navigator?: { gpu?: BrowserGpu } }).navigator?.gpu;
}

/**
 * Makes the TF.js backend `name` available: already registered (a browser app imports
 * `@tensorflow/tfjs-backend-<name>` so its bundler includes it), else imported by name (Node, or a
 * browser with an import map).
 */
async function ensureRegistered(name: string, pkg: string): Promise<void> {
  if (tf.findBackendFactory(name)) return;
  try {
    await importOptional(pkg);
  } catch (e) {
    const hint = inNode() ? `npm install ${pkg}` : `import '${pkg}' in your app so the bundler includes it`;
    throw new ClipwiseConfigError(`backend '${name}' needs ${pkg} installed (${hint}; ${(e as Error).message})`);
  }
}

interface AdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}

/**
 * The name of a software (CPU-emulated) WebGPU adapter, or null for real hardware: Mesa's
 * llvmpipe/lavapipe, SwiftShader, or any adapter that says it is a fallback. On such an adapter
 * our step runs slower than on the wasm backend (the demo's step: 5 samples/s on lavapipe, see
 * packages/memory/README.md), so `auto` passes it over; `--backend webgpu` still uses it.
 */
export function softwareAdapterName(info: AdapterInfoLike | undefined, isFallbackAdapter?: boolean): string | null {
  if (!info && !isFallbackAdapter) return null;
  const text = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ');
  if (isFallbackAdapter || info?.isFallbackAdapter || info?.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(text)) {
    return info?.description || info?.device || 'a fallback adapter';
  }
  return null;
}

/**
 * Node's one Dawn instance (`webgpu.create`) and what its adapter is. Made once per process: TF.js's
 * webgpu backend keeps the device of the first, so a second instance served nothing, and orphaned
 * instances collected while Dawn's threads ran killed test workers now and then (a glibc assertion in
 * `__pthread_tpp_change_priority` on lavapipe, "terminate called after throwing std::system_error" on
 * an H100) when a process called `setupBackend('webgpu')` more than once. The first call's Dawn flags
 * (robustness) hold for the process. `software`: the adapter's name where it is a software one
 * (`BackendChoice.softwareAdapter`).
 */
let dawn: { readonly software: string | null } | null = null;

async function startWebgpu(allowSoftware = true, robustness?: boolean): Promise<string> {
  if (!inNode()) return startBrowserWebgpu();
  if (!dawn) {
    let webgpu: { create: (o: string[]) => unknown; globals: object };
    try {
      webgpu = (await importOptional('webgpu')) as typeof webgpu;
    } catch (e) {
      throw new ClipwiseConfigError(`backend 'webgpu' needs the optional package 'webgpu' (Dawn): npm install webgpu @tensorflow/tfjs-backend-webgpu (${(e as Error).message})`);
    }
    Object.assign(globalThis, webgpu.globals);
    const gpu = webgpu.create(dawnFlags(dawnRobustness(robustness))) as { requestAdapter(): Promise<unknown> };
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new ClipwiseConfigError(`backend 'webgpu': Dawn found no GPU adapter (is a Vulkan loader and GPU driver installed?)`);
    const a = adapter as { info?: AdapterInfoLike; isFallbackAdapter?: boolean };
    dawn = { software: softwareAdapterName(a.info, a.isFallbackAdapter) };
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: requestAllStorageBindings(gpu) }, configurable: true });
  }
  if (dawn.software && !allowSoftware) throw new ClipwiseConfigError(`the only WebGPU adapter is a software one (${dawn.software}), slower than wasm on this CPU`);
  await ensureRegistered('webgpu', '@tensorflow/tfjs-backend-webgpu');
  return 'webgpu';
}

async function startBrowserWebgpu(): Promise<string> {
  const gpu = browserGpu();
  if (!gpu) throw new ClipwiseConfigError(`backend 'webgpu': this browser has no WebGPU (navigator.gpu is undefined)`);
  if (!(await gpu.requestAdapter())) throw new ClipwiseConfigError(`backend 'webgpu': navigator.gpu.requestAdapter() found no GPU adapter`);
  await ensureRegistered('webgpu', '@tensorflow/tfjs-backend-webgpu');
  return 'webgpu';
}

/**
 * On Linux, Dawn reaches the GPU through the Vulkan loader; without one it can only fail, after
 * printing native warnings to stderr. `auto` checks for the loader first so a CPU-only machine
 * falls through to wasm quietly.
 */
async function vulkanLoaderPresent(): Promise<boolean> {
  if (!inNode() || process.platform !== 'linux') return true;
  // By name at run time, so that bundling this module for a browser pulls in no Node built-in.
  const { existsSync } = (await importOptional('node:fs')) as typeof import('node:fs');
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':'),
    '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu',
    '/usr/lib64', '/usr/lib', '/usr/local/lib',
  ];
  return dirs.some((d) => d !== '' && existsSync(`${d}/libvulkan.so.1`));
}

async function startWebgpuIfLoader(robustness?: boolean): Promise<string> {
  if (!(await vulkanLoaderPresent())) throw new ClipwiseConfigError(`no Vulkan loader (libvulkan.so.1) found for Dawn`);
  return startWebgpu(false, robustness);
}

async function startTensorflow(): Promise<string> {
  if (!inNode()) throw new ClipwiseConfigError(`backend 'tensorflow' (tfjs-node) runs in Node only`);
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await importOptional(pkg);
      return 'tensorflow';
    } catch {
      // try the next one
    }
  }
  throw new ClipwiseConfigError(
    `backend 'tensorflow' needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node installed (they download libtensorflow at install time)`,
  );
}

async function startWasm(): Promise<string> {
  await ensureRegistered('wasm', '@tensorflow/tfjs-backend-wasm');
  return 'wasm';
}

/** Browser only: WebGL, where the app registered it (the `@tensorflow/tfjs` umbrella does). */
async function startWebgl(): Promise<string> {
  if (inNode() || !tf.findBackendFactory('webgl')) throw new ClipwiseConfigError(`webgl is not registered (browser only: import '@tensorflow/tfjs-backend-webgl')`);
  return 'webgl';
}

/** Starts `name`; wasm in Node on its thread pool. Returns the backend's thread count. */
async function activate(name: string, options: BackendOptions = {}): Promise<number> {
  let ok = false;
  let threads = 1;
  if (name === 'wasm' && inNode()) {
    const asked = options.wasmThreads !== undefined ? checkWasmThreads(options.wasmThreads, 'wasmThreads') : await defaultWasmThreads();
    threads = await withNodeWasmThreads(asked, async () => (ok = await tf.setBackend(name)));
  } else {
    ok = await tf.setBackend(name);
  }
  if (!ok) throw new ClipwiseConfigError(`TF.js backend '${name}' is registered but failed to initialise`);
  await tf.ready();
  // TF.js's own upload of CPU values costs a staging buffer each on webgpu
  if (name === 'webgpu') {
    // a command buffer the device rejects never runs: fail with its cause, not with a NaN steps later
    watchDeviceErrors((tf.backend() as unknown as { device?: unknown }).device);
    useQueueWriteUploads();
    // TF.js's per-launch recording (a uniform buffer and write, a bind group layout per launch) bounds GPT-2's step
    useLeanDispatch();
    // TF.js's pool keeps a buffer per exact byte size forever: size classes share them and give idle ones back
    useSizeClassPool();
    // TF.js's own matmul reaches ~13 of the card's ~50 fp32 TFLOP/s: ours serves the shapes it can
    installMatmulKernels();
  }
  if (name === 'wasm') {
    // TF.js's slow wasm paths (transposed and batched matmuls, libm pow, heap copies, strided sums)
    installWasmKernels();
  }
  return threads;
}

/**
 * Selects and starts a TF.js backend for every Clipwise package. `auto` tries, in Node,
 * tfjs-node(-gpu), then webgpu (Dawn, from the `webgpu` package), then wasm, then cpu; in a browser,
 * webgpu (the page's own `navigator.gpu`), then wasm, then webgl (where registered), then cpu; and
 * says why it chose. Node-only modules are imported by name at run time, never statically, so this
 * bundles for the browser; there, import `@tensorflow/tfjs-backend-webgpu` / `-wasm` in the app so
 * the bundler includes them (they are used when registered). A named backend that cannot start is an error naming
 * what is missing, never a silent fall-back.
 *
 * @example
 * const { backend, reason, threads } = await setupBackend('auto');
 * await setupBackend('wasm', { wasmThreads: 2 });
 */
export async function setupBackend(name: BackendName = 'auto', options: BackendOptions = {}): Promise<BackendChoice> {
  switch (name) {
    case 'cpu':
      return { backend: 'cpu', reason: 'requested', threads: await activate('cpu') };
    case 'wasm':
      return { backend: 'wasm', reason: 'requested', threads: await activate(await startWasm(), options) };
    case 'webgpu': {
      const threads = await activate(await startWebgpu(true, options.webgpuRobustness));
      return { backend: 'webgpu', reason: 'requested', threads, ...(dawn?.software ? { softwareAdapter: dawn.software } : {}) };
    }
    case 'tensorflow':
      return { backend: 'tensorflow', reason: 'requested', threads: await activate(await startTensorflow()) };
    case 'auto': {
      const notes: string[] = [];
      const candidates: ReadonlyArray<readonly [string, () => Promise<string>]> = inNode()
        ? [
            ['tensorflow', startTensorflow],
            ['webgpu', () => startWebgpuIfLoader(options.webgpuRobustness)],
            // wasm (XNNPACK) runs our training steps 7–10× faster than the pure-JS cpu backend
            ['wasm', startWasm],
          ]
        : [
            ['webgpu', startBrowserWebgpu],
            ['wasm', startWasm],
            ['webgl', startWebgl],
          ];
      for (const [label, start] of candidates) {
        try {
          const threads = await activate(await start(), options);
          return { backend: label, reason: `auto: ${label} available${notes.length ? ` (${notes.join('; ')})` : ''}`, threads };
        } catch (e) {
          notes.push(`${label}: ${(e as Error).message}`);
        }
      }
      const threads = await activate('cpu');
      return { backend: 'cpu', reason: `auto: fell back to cpu (${notes.join('; ')})`, threads };
    }
    default:
      throw new ClipwiseConfigError(`unknown backend '${name as string}': expected auto, cpu, wasm, webgpu or tensorflow`);
  }
}
