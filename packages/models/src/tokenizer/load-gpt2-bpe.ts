import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';

// The gpt2 ranks are ~0.5 MB of JS and take 0.3-0.6 s to parse into maps, so they are loaded on the
// first Gpt2Tokenizer construction only (never at import) and shared by later instances. They ship
// inside js-tiktoken: nothing is fetched from the network. `js-tiktoken/lite` is the entry point
// without bundled ranks; the package's main entry would parse every encoding's ranks eagerly.
let shared: Tiktoken | undefined;

/** The shared GPT-2 BPE, loading the ranks on first call. Internal (not exported by the package). */
export function loadGpt2Bpe(): Tiktoken {
  if (!shared) {
    // Synchronous so the constructor can stay synchronous. `require` itself is not referenced: the
    // ESM bundle would replace it with a stub that throws. CJS builds have __filename, ESM has
    // import.meta.url.
    const from = typeof __filename === 'string' ? __filename : import.meta.url;
    shared = new Tiktoken(createRequire(from)('js-tiktoken/ranks/gpt2') as TiktokenBPE);
  }
  return shared;
}

/** Whether {@link loadGpt2Bpe} has run in this module instance; for the laziness test. */
export function isGpt2BpeLoaded(): boolean {
  return shared !== undefined;
}
