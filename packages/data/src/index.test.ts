import { describe, expect, it } from 'vitest';
import * as data from './index.js';
import * as dataNode from './node.js';

describe('public API', () => {
  const parsers = [
    'ClipwiseDataError', 'ImageDataset', 'parseCifarBinary', 'resizeBilinear', 'parseCsv', 'parseE2ECsv', 'formatE2E',
    'formatE2EPrompt', 'encodeE2E', 'groupReferencesByMr', 'encodePromptCompletions', 'tokensToBlocks', 'textToBlocks',
    'parseJsonl', 'SeededRng', 'PoissonSampler', 'ShuffleSampler', 'splitPhysicalBatches',
  ];
  const readers = [
    'readCifarBinary', 'readImageFolder', 'readImageArchive', 'decodeImage', 'readTarEntries', 'openArchive', 'readE2ECsv',
    'readTextBlocks', 'readJsonlTexts', 'readJsonlPromptCompletions',
  ];

  it('main entry (browser-safe): every parser, sampler and the error type, and no file reader', () => {
    for (const name of parsers) expect(typeof (data as Record<string, unknown>)[name], name).toBe('function');
    for (const name of readers) expect((data as Record<string, unknown>)[name], name).toBeUndefined();
    expect(data.E2E_SEPARATOR).toBe('||');
    expect(data.CIFAR10_CLASS_NAMES).toHaveLength(10);
    expect(new data.ClipwiseDataError('x')).toBeInstanceOf(Error);
    expect(new data.ClipwiseDataError('x').name).toBe('ClipwiseDataError');
  });

  it('@clipwise/data/node: the main entry plus every file reader', () => {
    for (const name of [...parsers, ...readers]) expect(typeof (dataNode as Record<string, unknown>)[name], name).toBe('function');
    expect(dataNode.PoissonSampler).toBe(data.PoissonSampler);
  });
});
