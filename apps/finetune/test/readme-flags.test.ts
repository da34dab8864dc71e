import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBlock } from '../src/flags/flag-table';
import { readmeFlagTables } from '../src/program';

const readme = readFileSync(path.resolve(__dirname, '../README.md'), 'utf8');

// The README's flag tables are made from the same declarations as the parser and --help.
describe('apps/finetune/README.md flag tables', () => {
  it.each(Object.entries(readmeFlagTables()))('clipwise %s: the table matches the declaration (else run `npm run readme-flags`)', (name, table) => {
    expect(readBlock(readme, name), `<!-- flags:${name} --> block`).toBe(table);
  });
});
