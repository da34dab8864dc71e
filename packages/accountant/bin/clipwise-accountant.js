#!/usr/bin/env node
// Committed launcher, so that `npm ci` can link the bin before the first build; the CLI is built to dist/.
import('../dist/cli.js').catch((e) => {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  console.error('clipwise-accountant: not built yet; run `npm run build` at the repository root');
  process.exit(1);
});
