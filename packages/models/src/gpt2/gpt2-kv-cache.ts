import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { residualMlp } from '../common/residual-mlp.js';
import type { Gpt2Model } from './gpt2-model.js';

// a masked score: finite, so that a row whose keys are all masked (a padding query) stays finite,
// and far enough below any real score that its softmax weight is exactly 0 in float32
const MASKED = -1e9;

/**
 * Each block's keys and values of a batch of token rows, for incremental (KV-cached) decoding with a
 * {@link Gpt2Model}: a decoding step runs the model on each row's one new token, its attention reading
 * the cached keys and values, instead of the whole prefix again. Rows of different lengths are
 * left-padded to one width; the padding's keys are masked and every row's positions count from its
 * own first token, so a row's scores are the ones it has decoded alone (up to float32 summation order).
 * Inference only (no gradients, nothing recorded); plain TF.js ops, so every backend runs it.
 *
 * @example
 * const { cache, logits } = Gpt2KvCache.prefill(model, [[464, 3290], [40]]); // logits [2, vocab] of each row's next token
 * const next = cache.step([13, 11]); // one token more a row: logits [2, vocab]
 * cache.keepRows([1]); // row 0 is finished: the cache now holds row 1 only
 * cache.dispose();
 */
export class Gpt2KvCache {
  private constructor(
    private readonly model: Gpt2Model,
    private keys: tf.Tensor4D[],
    private values: tf.Tensor4D[],
    /** Each row's left padding: its first `pads[r]` cached columns. */
    private pads: number[],
  ) {}

  /**
   * Runs `model` on `prompts` (left-padded to the longest) and keeps every block's keys and values;
   * `logits` [rows, vocab] are each prompt's next-token scores (the LM head on its last position only).
   */
  static prefill(model: Gpt2Model, prompts: readonly (readonly number[])[]): { cache: Gpt2KvCache; logits: tf.Tensor2D } {
    if (prompts.length === 0) throw new ClipwiseModelError('Gpt2KvCache.prefill: no prompts; pass at least one row of token ids');
    const empty = prompts.findIndex((p) => p.length === 0);
    if (empty >= 0) throw new ClipwiseModelError(`Gpt2KvCache.prefill: prompt ${empty} is empty; a row needs at least one token`);
    const limit = model.config.n_positions;
    const long = prompts.findIndex((p) => p.length > limit);
    if (long >= 0) throw new ClipwiseModelError(`Gpt2KvCache.prefill: prompt ${long} has ${prompts[long]!.length} tokens, more than n_positions ${limit}`);
    const rows = prompts.length;
    const width = Math.max(...prompts.map((p) => p.length));
    const pads = prompts.map((p) => width - p.length);
    const ids = new Int32Array(rows * width); // padding: token 0, never attended to
    const positions = new Int32Array(rows * width);
    prompts.forEach((p, r) => {
      ids.set(p, r * width + pads[r]!);
      for (let c = pads[r]!; c < width; c++) positions[r * width + c] = c - pads[r]!;
    });
    // causal [1, 1, W, W] plus each row's padding [R, 1, 1, W]
    const causal = new Float32Array(width * width);
    for (let q = 0; q < width; q++) for (let k = q + 1; k < width; k++) causal[q * width + k] = MASKED;
    const { logits, keys, values } = Gpt2KvCache.forward(model, ids, positions, [rows, width], () => tf.add(tf.tensor4d(causal, [1, 1, width, width]), padMask(pads, width)), null);
    return { cache: new Gpt2KvCache(model, keys, values, pads), logits };
  }

  /** Rows in the cache. */
  get rows(): number {
    return this.pads.length;
  }

  /** Each row's tokens so far (its prompt and what `step` has added), without padding: the cached columns less its padding. */
  get lengths(): readonly number[] {
    const width = this.keys[0]?.shape[2] ?? 0;
    return this.pads.map((p) => width - p);
  }

  /**
   * Appends one token to each row (`tokens[r]` to row r) and returns each row's next-token logits
   * [rows, vocab]. A row may not grow past the model's `n_positions`.
   */
  step(tokens: readonly number[]): tf.Tensor2D {
    this.checkLive('step');
    if (tokens.length !== this.rows) throw new ClipwiseModelError(`Gpt2KvCache.step: ${tokens.length} tokens for ${this.rows} rows; pass one a row`);
    const limit = this.model.config.n_positions;
    const lengths = this.lengths;
    const full = lengths.findIndex((n) => n >= limit);
    if (full >= 0) throw new ClipwiseModelError(`Gpt2KvCache.step: row ${full} already has n_positions (${limit}) tokens; drop it with keepRows`);
    const width = this.keys[0]!.shape[2] + 1;
    // each row's new token sits at its length so far (positions count from its first real token)
    const { logits, keys, values } = Gpt2KvCache.forward(this.model, Int32Array.from(tokens), Int32Array.from(lengths), [this.rows, 1], () => padMask(this.pads, width), { keys: this.keys, values: this.values });
    tf.dispose([...this.keys, ...this.values]);
    this.keys = keys;
    this.values = values;
    return logits;
  }

  /**
   * Keeps only the rows `rows` (indices into the current rows, in the order given), e.g. the ones
   * still decoding; columns that are padding in every kept row go too.
   */
  keepRows(rows: readonly number[]): void {
    this.checkLive('keepRows');
    const bad = rows.find((r) => !(Number.isInteger(r) && r >= 0 && r < this.rows));
    if (bad !== undefined) throw new ClipwiseModelError(`Gpt2KvCache.keepRows: row ${bad} is not one of the cache's ${this.rows} rows`);
    if (rows.length === 0) throw new ClipwiseModelError('Gpt2KvCache.keepRows: no rows; dispose the cache instead');
    const pads = rows.map((r) => this.pads[r]!);
    const drop = Math.min(...pads);
    const keep = (x: tf.Tensor4D) =>
      tf.tidy(() => {
        const picked = tf.gather(x, tf.tensor1d(Int32Array.from(rows), 'int32'), 0) as tf.Tensor4D;
        return drop > 0 ? tf.slice(picked, [0, 0, drop, 0], [-1, -1, -1, -1]) : picked;
      });
    const keys = this.keys.map(keep);
    const values = this.values.map(keep);
    tf.dispose([...this.keys, ...this.values]);
    this.keys = keys;
    this.values = values;
    this.pads = pads.map((p) => p - drop);
  }

  /** Frees the cached keys and values; the cache takes no more steps. */
  dispose(): void {
    tf.dispose([...this.keys, ...this.values]);
    this.keys = [];
    this.values = [];
    this.pads = []; // no rows
  }

  private checkLive(what: string): void {
    if (this.keys.length === 0) throw new ClipwiseModelError(`Gpt2KvCache.${what}: the cache was disposed; prefill a new one`);
  }

  /**
   * The blocks on `ids` [R, n] at `positions`, attention over the cached keys and values (if any) and
   * the new ones, with the additive `mask()` [R or 1, 1, n, cached + n]; the next-token logits [R, vocab]
   * of the last column and every block's keys and values, cached and new ([R, H, cached + n, hd], kept).
   */
  private static forward(
    model: Gpt2Model, ids: Int32Array, positions: Int32Array, [rows, n]: [number, number], mask: () => tf.Tensor,
    cached: { keys: readonly tf.Tensor4D[]; values: readonly tf.Tensor4D[] } | null,
  ): { logits: tf.Tensor2D; keys: tf.Tensor4D[]; values: tf.Tensor4D[] } {
    const { n_embd: d, n_head: heads, n_positions: maxPositions } = model.config;
    const hd = d / heads;
    const keys: tf.Tensor4D[] = [];
    const values: tf.Tensor4D[] = [];
    const logits = tf.tidy(() => {
      const m = mask();
      const table = tf.reshape(model.wpe.weight.variable, [maxPositions, d]);
      let h = tf.add(model.wte.apply(tf.tensor2d(ids, [rows, n], 'int32')), tf.gather(table, tf.tensor2d(positions, [rows, n], 'int32'))) as tf.Tensor3D;
      const split = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [rows, n, heads, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
      model.blocks.forEach((b, l) => {
        const [q, k, v] = tf.split(b.attn.apply(b.ln1.apply(h)), 3, 2).map(split) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const allK = tf.keep(cached ? tf.concat([cached.keys[l]!, k], 2) : k);
        const allV = tf.keep(cached ? tf.concat([cached.values[l]!, v], 2) : v);
        keys.push(allK);
        values.push(allV);
        const scores = tf.add(tf.mul(tf.matMul(q, allK, false, true), 1 / Math.sqrt(hd)), m);
        const ctx = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), allV), [0, 2, 1, 3]), [rows, n, d]);
        h = residualMlp(b.attnProj.applyPlus(ctx, h) as tf.Tensor3D, b.ln2, b.fc, 'geluTanh', b.proj);
      });
      // the final layer norm and LM head on the last column only
      const last = tf.slice(h, [0, n - 1, 0], [-1, 1, -1]);
      return tf.reshape(model.head.apply(model.lnF.apply(last)), [rows, -1]) as tf.Tensor2D;
    });
    return { logits, keys, values };
  }
}

/** [R, 1, 1, width]: MASKED on each row's padding columns (its first `pads[r]`), else 0. */
function padMask(pads: readonly number[], width: number): tf.Tensor4D {
  const m = new Float32Array(pads.length * width);
  pads.forEach((p, r) => m.fill(MASKED, r * width, r * width + p));
  return tf.tensor4d(m, [pads.length, 1, 1, width]);
}
