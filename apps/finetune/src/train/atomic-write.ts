import { writeFileAtomic } from '@clipwise/models/node';

export { writeFileAtomic };

/** `writeFileAtomic` of a JSON value. */
export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(value));
}
