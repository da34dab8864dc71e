import { describe, expect, it } from 'vitest';
import { isGpt2BpeLoaded } from './load-gpt2-bpe.js';

// A file of its own: vitest evaluates each test file's modules afresh, so nothing has loaded the
// ranks into this module instance yet.
describe('Gpt2Tokenizer loading', () => {
  it('loads the ranks on first construction, not on import, and reuses them', async () => {
    const { Gpt2Tokenizer } = await import('../index.js');
    expect(isGpt2BpeLoaded()).toBe(false);

    const t0 = performance.now();
    const tok = new Gpt2Tokenizer();
    const firstMs = performance.now() - t0;
    expect(isGpt2BpeLoaded()).toBe(true);
    expect(tok.encode('Hello world')).toEqual([15496, 995]);

    const t1 = performance.now();
    new Gpt2Tokenizer();
    expect(performance.now() - t1).toBeLessThan(firstMs);
  });
});
