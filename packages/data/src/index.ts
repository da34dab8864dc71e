// @clipwise/data: data sets as plain typed arrays, and the samplers DP-SGD's accounting relies on.
// Browser-safe: no Node built-in is reachable from here. Reading files, folders and archives (and
// decoding PNG/JPEG, which pngjs does with Node streams) is in `@clipwise/data/node`.

export { ClipwiseDataError } from './errors.js';

// Images
export { ImageDataset, type ImageDatasetInit, type PixelValuesOptions } from './images/image-dataset.js';
export { parseCifarBinary, cifarRecordBytes, type CifarVariant, type CifarBinaryOptions, type CifarRecords } from './images/cifar-binary.js';
export { CIFAR10_CLASS_NAMES, CIFAR100_FINE_CLASS_NAMES, CIFAR100_COARSE_CLASS_NAMES } from './images/cifar-names.js';
export type { ImageSubsetOptions } from './images/image-subset.js';
export { resizeBilinear } from './images/resize-bilinear.js';

// Text
export type { TextTokenizer, PromptCompletion } from './text/tokenizer.js';
export { parseCsv, type CsvRow } from './text/csv.js';
export { parseE2ECsv, type E2EPair } from './text/e2e-csv.js';
export { E2E_SEPARATOR, formatE2E, formatE2EPrompt, e2eToPromptCompletion, encodeE2E, groupReferencesByMr } from './text/e2e-format.js';
export { encodePromptCompletions, type EncodeOptions, type EncodedExamples } from './text/prompt-completion.js';
export { tokensToBlocks, textToBlocks, type TokenBlocks, type BlockOptions } from './text/lm-blocks.js';
export {
  parseJsonl,
  jsonlTexts,
  jsonlPromptCompletions,
  type JsonlRecord,
} from './text/jsonl.js';

// Samplers
export { SeededRng, type RngState } from './samplers/rng.js';
export { PoissonSampler, type PoissonSamplerOptions } from './samplers/poisson.js';
export { ShuffleSampler, type ShuffleSamplerOptions } from './samplers/shuffle.js';
export { splitPhysicalBatches } from './samplers/physical-batches.js';
export type { BatchSampler, SamplingKind, PoissonSamplerState, ShuffleSamplerState } from './samplers/types.js';
