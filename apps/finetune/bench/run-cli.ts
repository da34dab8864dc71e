// Runs the clipwise CLI from source (no build), e.g. on the GPU machine:
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/run-cli.ts -- train ...
import { main } from '../src/cli';

const args = process.argv.slice(2);
process.exit(await main(args[0] === '--' ? args.slice(1) : args));
