// `npm run bench -- [flags]` runs `clipwise bench` from source (the app composes the models, the
// private step and this package's probes and model); flags as `clipwise bench --help` lists them, e.g.
//   npm run bench -- --backend wasm --model gpt2-tiny --batch-size 16 --seq-len 64 --reps 5
import { runBenchCommand } from '../../../apps/finetune/src/commands/bench';

await runBenchCommand(process.argv.slice(2), console.log);
