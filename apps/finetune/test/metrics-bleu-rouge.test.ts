import { describe, expect, it } from 'vitest';
import { corpusBleu } from '../src/metrics/bleu';
import { corpusRougeL, lcsLength, rougeL } from '../src/metrics/rouge-l';
import { tokenizeForMetrics } from '../src/metrics/tokenize-for-metrics';

const t = (s: string) => s.split(' ');

describe('corpusBleu', () => {
  it('matches the hand-computed corpus BLEU-4 with clipping, several references and brevity penalty (1e-12)', () => {
    // Candidate 1 vs two refs: p1 5/6, p2 3/5, p3 1/4, p4 0/3; closest ref length 6.
    // Candidate 2 "a b c d e" vs "a b c d e f g": 5/5, 4/4, 3/3, 2/2; ref length 7.
    // Corpus: p = 10/11, 7/9, 4/7, 2/5 (product 16/99); c = 11, r = 13, BP = exp(1 - 13/11).
    const r = corpusBleu(
      [t('the cat sat on the mat'), t('a b c d e')],
      [[t('the cat is on the mat'), t('there is a cat on the mat')], [t('a b c d e f g')]],
    );
    expect(r.precisions).toEqual([10 / 11, 7 / 9, 4 / 7, 2 / 5]);
    expect(r.candidateLength).toBe(11);
    expect(r.referenceLength).toBe(13);
    expect(r.brevityPenalty).toBeCloseTo(Math.exp(-2 / 11), 12);
    expect(r.bleu).toBeCloseTo(Math.exp(-2 / 11) * Math.pow(16 / 99, 0.25), 12);
  });

  it('is 1 for an exact match, 0 without any matching 4-gram, and picks the shorter reference on a length tie', () => {
    expect(corpusBleu([t('a b c d')], [[t('a b c d')]]).bleu).toBe(1);
    expect(corpusBleu([t('a b c d')], [[t('a b c x')]]).bleu).toBe(0);
    // Candidate length 5, references 4 and 6: r = 4 < c, so BP = 1.
    const tie = corpusBleu([t('a b c d e')], [[t('a b c d'), t('a b c d e f')]]);
    expect(tie.referenceLength).toBe(4);
    expect(tie.brevityPenalty).toBe(1);
  });
});

describe('ROUGE-L', () => {
  it('LCS length', () => {
    expect(lcsLength(t('police killed the gunman'), t('police kill the gunman'))).toBe(3);
    expect(lcsLength(t('a b c d'), t('b d a c'))).toBe(2);
    expect(lcsLength([], t('a'))).toBe(0);
  });

  it('F-measure with β = 1.2, P and R each maximised over the references (1e-12)', () => {
    // P = 1, R = 3/5: F = 2.44·0.6 / (0.6 + 1.44) = 1.464 / 2.04.
    expect(rougeL(t('the cat sat'), [t('the black cat sat down')])).toBeCloseTo(1.464 / 2.04, 12);
    // Ref 1 gives P = 2/4, R = 1; ref 2 gives P = 3/4, R = 3/8; so P = 3/4, R = 1: F = 2.44·0.75 / (1 + 1.44·0.75).
    expect(rougeL(t('a b c d'), [t('a b'), t('a b c x x x x x')])).toBeCloseTo((2.44 * 0.75) / (1 + 1.44 * 0.75), 12);
    expect(rougeL(t('x y'), [t('a b')])).toBe(0);
    expect(corpusRougeL([t('a b'), t('x y')], [[t('a b')], [t('a b')]])).toBeCloseTo(0.5, 12);
  });

  it('tokenises lower-cased words and punctuation separately', () => {
    expect(tokenizeForMetrics("The Eagle's, cheap.")).toEqual(['the', 'eagle', "'", 's', ',', 'cheap', '.']);
  });
});
