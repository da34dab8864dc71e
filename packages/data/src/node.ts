// `@clipwise/data/node`: everything in the main entry, plus what reads files, folders and archives
// and decodes images (Node only).
export * from './index.js';
export { readE2ECsv } from './node/read-e2e-csv.js';
export { readTextBlocks } from './node/read-text-blocks.js';
export { readJsonlTexts, readJsonlPromptCompletions } from './node/read-jsonl.js';
export { readCifarBinary, type ReadCifarBinaryOptions } from './node/read-cifar-binary.js';
export { readImageFolder, type ImageFolderOptions } from './images/image-folder.js';
export { readImageArchive, type ImageArchiveOptions } from './images/image-archive.js';
export type { ResizeTo } from './images/build-image-dataset.js';
export { decodeImage, type DecodedImage } from './images/decode-image.js';
export { readTarEntries, openArchive, type TarHeader, type TarEntry, type ReadTarOptions } from './archives/tar-reader.js';
