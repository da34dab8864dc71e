// Test helper: a character-level tokenizer (id = UTF-16 code unit + 1, EOT = 0).
import type { TextTokenizer } from '../text/tokenizer.js';

export const charTokenizer: TextTokenizer = {
  encode: (text) => {
    const ids = new Array<number>(text.length);
    for (let i = 0; i < text.length; i++) ids[i] = text.charCodeAt(i) + 1;
    return ids;
  },
  eotToken: 0,
};

export const decodeChars = (ids: ArrayLike<number>): string =>
  Array.from(ids, (id) => (id === 0 ? '⟂' : String.fromCharCode(id - 1))).join('');
