// Writes the READMEs' flag tables from the commands' declarations: `npm run readme-flags`.
// The tests (apps/finetune/test/readme-flags.test.ts, packages/accountant/src/cli/main.test.ts) fail when a table is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBlock } from '../../apps/finetune/src/flags/flag-table';
import { readmeFlagTables } from '../../apps/finetune/src/program';
import { accountantFlagTable } from '../../packages/accountant/src/cli/cli-flags';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readmes: Record<string, Record<string, string>> = {
  'apps/finetune/README.md': readmeFlagTables(),
  'packages/accountant/README.md': { 'clipwise-accountant': accountantFlagTable() },
};
for (const [file, blocks] of Object.entries(readmes)) {
  const full = path.join(root, file);
  const before = readFileSync(full, 'utf8');
  const after = Object.entries(blocks).reduce((text, [name, table]) => writeBlock(text, name, table), before);
  if (after !== before) writeFileSync(full, after);
  console.log(`${file}: ${Object.keys(blocks).join(', ')}${after === before ? ' (up to date)' : ' (written)'}`);
}
