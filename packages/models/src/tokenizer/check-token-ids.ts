import { ClipwiseModelError } from '../clipwise-model-error.js';

/** Throws a {@link ClipwiseModelError} naming the first id that is not an integer in `[0, vocabSize)`. */
export function checkTokenIds(ids: ArrayLike<number>, vocabSize: number, tokenizer: string): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new ClipwiseModelError(
        `${tokenizer}.decode: ids[${i}] is ${id}, expected an integer in [0, ${vocabSize}). ` +
          'Fix: decode ids produced by the same tokenizer (a model with a larger vocabulary, or padding ids, will not decode).',
      );
    }
  }
}
