import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { ClipwiseModelError } from '../clipwise-model-error.js';

// The gpt2 ranks are ~0.5 MB of JS and take 0.3-0.6 s to parse into maps, so they are loaded on the
// first Gpt2Tokenizer construction only (never at import) and shared by later instances. They ship
// inside js-tiktoken: nothing is fetched from the network. `js-tiktoken/lite` is the entry point
// without bundled ranks; the package's main entry would parse every encoding's ranks eagerly.
let shared: Tiktoken | undefined;

/** The shared GPT-2 BPE, loading the ranks on first call. Internal (not exported by the package). */
export function loadGpt2Bpe(): Tiktoken {
  shared ??= new Tiktoken(requireRanks());
  return shared;
}

/** Whether {@link loadGpt2Bpe} has run in this module instance; for the laziness test. */
export function isGpt2BpeLoaded(): boolean {
  return shared !== undefined;
}

type Require = (id: string) => unknown;

/**
 * Synchronous so the constructor can stay synchronous. Node's `createRequire` is reached through
 * `process.getBuiltinModule` (Node ≥ 20.16), never a static `node:module` import, so this package's
 * main entry bundles for browsers; there, the ranks must be passed in. `require` itself is not
 * referenced: the ESM bundle would replace it with a stub that throws. The CJS build gets
 * `import.meta.url` from tsup's shim (`shims: true`); `__filename` is not used, or the ESM build
 * would import Node's `url` for its shim.
 */
function requireRanks(): TiktokenBPE {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const nodeModule = proc?.getBuiltinModule?.('module') as { createRequire(from: string): Require } | undefined;
  if (!nodeModule) {
    throw new ClipwiseModelError(
      "Gpt2Tokenizer: no ranks were given and this runtime cannot load them synchronously (a browser, or Node older than 20.16). " +
        "Fix: import ranks from 'js-tiktoken/ranks/gpt2' and pass them: new Gpt2Tokenizer(ranks).",
    );
  }
  return nodeModule.createRequire(import.meta.url)('js-tiktoken/ranks/gpt2') as TiktokenBPE;
}

/**
 * The bytes of GPT-2 token `id` (not the end-of-text token). Reads js-tiktoken's rank → bytes map,
 * which its `decode` uses but does not export; throws if a js-tiktoken update renames it.
 */
export function gpt2TokenBytes(id: number): Uint8Array {
  const textMap = (loadGpt2Bpe() as unknown as { textMap?: Map<number, Uint8Array> }).textMap;
  if (!(textMap instanceof Map)) throw new ClipwiseModelError('gpt2TokenBytes: js-tiktoken no longer has Tiktoken.textMap; pin js-tiktoken or update load-gpt2-bpe.ts');
  const bytes = textMap.get(id);
  if (!bytes) throw new ClipwiseModelError(`gpt2TokenBytes: ${id} is not a GPT-2 token id (0..50255)`);
  return bytes;
}
