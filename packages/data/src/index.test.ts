import { describe, expect, it } from 'vitest';
import * as data from './index.js';

describe('public API', () => {
  it('exports every loader, sampler and the error type', () => {
    for (const name of [
      'ClipwiseDataError', 'ImageDataset', 'readCifarBinary', 'parseCifarBinary', 'readImageFolder', 'readImageArchive',
      'decodeImage', 'resizeBilinear', 'readTarEntries', 'openArchive', 'parseCsv', 'readE2ECsv', 'parseE2ECsv', 'formatE2E',
      'formatE2EPrompt', 'encodeE2E', 'groupReferencesByMr', 'encodePromptCompletions', 'tokensToBlocks', 'textToBlocks',
      'readTextBlocks', 'parseJsonl', 'readJsonlTexts', 'readJsonlPromptCompletions', 'SeededRng', 'PoissonSampler',
      'ShuffleSampler', 'splitPhysicalBatches',
    ]) {
      expect(typeof (data as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(data.E2E_SEPARATOR).toBe('||');
    expect(data.CIFAR10_CLASS_NAMES).toHaveLength(10);
    expect(new data.ClipwiseDataError('x')).toBeInstanceOf(Error);
    expect(new data.ClipwiseDataError('x').name).toBe('ClipwiseDataError');
  });
});
