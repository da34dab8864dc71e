import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError } from '../errors';

/**
 * Multi-threaded wasm (XNNPACK on a pthread pool) in Node.
 *
 * TF.js ships a threaded SIMD build of its wasm backend but turns it off in Node
 * (tensorflow/tfjs#3830): its loader hands Emscripten's thread workers blob: URLs, which Node's
 * `worker_threads` cannot load, and the C++ side caps the pool at half the logical cores (one thread
 * on a 2-core machine). Here the worker script and the module factory are written to files, the
 * loader's blob: URL is answered with the worker file's path while the backend initialises, and the
 * core count the C++ reads is raised to what was asked for. On 2 cores this takes a 1024² matmul
 * from 44 to 85 GFLOP/s.
 *
 * All of it is scoped to `tf.setBackend('wasm')`: the globals touched (URL.createObjectURL,
 * os.cpus) are restored afterwards, and the pool's workers are unref'd so a finished script exits.
 */

/** The package's threaded module and its worker, as TF.js 4.x lays them out. */
const WASM_PKG = '@tensorflow/tfjs-backend-wasm';
const FACTORY_MODULE = `${WASM_PKG}/wasm-out/tfjs-backend-wasm-threaded-simd.js`;
const WORKER_MODULE = `${WASM_PKG}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`;
/** Emscripten pre-creates this many workers in TF.js's build; XNNPACK uses at most as many threads. */
export const MAX_WASM_THREADS = 8;

async function importByName<T>(name: string): Promise<T> {
  // A variable specifier keeps bundlers from resolving Node-only modules at build time.
  const spec = name;
  return import(/* @vite-ignore */ spec) as Promise<T>;
}

interface EmscriptenWorker {
  unref(): void;
}
interface WasmModuleWithThreads {
  PThread?: { runningWorkers: EmscriptenWorker[]; unusedWorkers: EmscriptenWorker[] };
}

/**
 * The threads a Node process gives wasm when nobody says: CLIPWISE_WASM_THREADS if set, else every
 * core the OS offers (`os.availableParallelism()`), at most {@link MAX_WASM_THREADS}.
 */
export async function defaultWasmThreads(): Promise<number> {
  const env = process.env.CLIPWISE_WASM_THREADS;
  if (env !== undefined && env !== '') return parseWasmThreads(env, 'CLIPWISE_WASM_THREADS');
  const os = await nodeOs();
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(MAX_WASM_THREADS, cores));
}

/** node:os's default export: the object whose `cpus` the threaded init patches (a named import cannot be). */
async function nodeOs(): Promise<typeof import('node:os')> {
  return (await importByName<{ default: typeof import('node:os') }>('node:os')).default;
}

/** A thread count from text (a flag or the environment), or an error naming where it came from. */
export function parseWasmThreads(text: string, where: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new ClipwiseConfigError(`${where}: wasm threads must be a whole number from 1 to ${MAX_WASM_THREADS}, got '${text}'`);
  }
  return n;
}

/** `n` if it is a valid thread count, else an error naming `where`. */
export function checkWasmThreads(n: number, where: string): number {
  return parseWasmThreads(String(n), where);
}

/** Writes `text` to `dir/name` unless a file of that content-addressed name is there (atomic: temp + rename). */
async function writeOnce(dir: string, name: string, text: string): Promise<string> {
  const fs = await importByName<typeof import('node:fs')>('node:fs');
  const path = `${dir}/${name}`;
  if (fs.existsSync(path)) return path;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, path);
  return path;
}

/** The worker script and the module factory as files the pool's `worker_threads` can load. */
async function writeThreadFiles(): Promise<{ worker: string; factory: string }> {
  const [{ createHash }, os] = await Promise.all([
    importByName<typeof import('node:crypto')>('node:crypto'),
    nodeOs(),
  ]);
  const workerModule = await importByName<{ wasmWorkerContents?: string; default?: { wasmWorkerContents?: string } }>(WORKER_MODULE);
  const workerContents = workerModule.wasmWorkerContents ?? workerModule.default?.wasmWorkerContents;
  const factoryModule = await importByName<{ default?: unknown }>(FACTORY_MODULE);
  const factory = factoryModule.default;
  if (typeof workerContents !== 'string' || typeof factory !== 'function') {
    throw new Error(`${WASM_PKG}'s threaded build is not laid out as expected (TF.js 4.x)`);
  }
  // The main script the workers import: the same source TF.js itself puts in a Blob.
  const factorySource = `var WasmBackendModuleThreadedSimd = ${factory.toString()};\n`;
  const dir = `${os.tmpdir()}/clipwise-wasm-threads`;
  const tag = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);
  const factoryPath = await writeOnce(dir, `factory-${tag(factorySource)}.cjs`, factorySource);
  // Inside a worker the module factory comes as a Blob too: point its object URL at the file.
  // The contents' "\n" escapes became newlines in the exported template string; TF.js escapes them back.
  const workerSource =
    `URL.createObjectURL = () => ${JSON.stringify(factoryPath)}; URL.revokeObjectURL = () => {};\n` +
    workerContents.replace(/\n/g, '\\n');
  const workerPath = await writeOnce(dir, `worker-${tag(workerSource)}.cjs`, workerSource);
  return { worker: workerPath, factory: factoryPath };
}

/**
 * Runs `init` (which must initialise the wasm backend, e.g. `tf.setBackend('wasm')`) with TF.js's
 * threaded wasm build on `threads` threads. Node only; `threads` 1 runs `init` unchanged. Returns
 * the thread count XNNPACK got.
 *
 * @example
 * await withNodeWasmThreads(2, () => tf.setBackend('wasm'));
 */
export async function withNodeWasmThreads(threads: number, init: () => Promise<unknown>): Promise<number> {
  const wasm = await importByName<{ setThreadsCount(n: number): void; getThreadsCount(): number }>(WASM_PKG);
  if (threads <= 1) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    await init();
    return wasm.getThreadsCount();
  }
  const files = await writeThreadFiles();
  const osModule = await nodeOs();
  const cpus = osModule.cpus;
  const createObjectURL = URL.createObjectURL;
  // TF.js's C++ uses half the logical cores Emscripten reports (it assumes hyper-threads)
  osModule.cpus = () => {
    const list = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => list[i % list.length]!);
  };
  URL.createObjectURL = (obj: Blob | MediaSource) =>
    obj instanceof Blob && obj.type === 'application/javascript' ? files.worker : createObjectURL(obj);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  try {
    await init();
  } finally {
    osModule.cpus = cpus;
    URL.createObjectURL = createObjectURL;
  }
  // Idle pool threads must not keep a finished process alive: work is dispatched synchronously from here
  const pthreads = (tf.findBackend('wasm') as unknown as { wasm?: WasmModuleWithThreads } | null)?.wasm?.PThread;
  for (const w of [...(pthreads?.runningWorkers ?? []), ...(pthreads?.unusedWorkers ?? [])]) w.unref();
  return wasm.getThreadsCount();
}

/** XNNPACK's thread count on the running wasm backend (1 when single-threaded or not wasm). */
export async function wasmThreadsCount(): Promise<number> {
  if (tf.getBackend() !== 'wasm') return 1;
  const wasm = await importByName<{ getThreadsCount(): number }>(WASM_PKG);
  return wasm.getThreadsCount();
}
