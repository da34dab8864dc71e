// Which switches of interleaved A/Bs (`clipwise bench --ab SWITCH --json F`) to run with, as env settings
// (gpu-session.sh part 29 writes them for part 27 under AB_DECISION=1):
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/ab-decide.ts -- \
//     CLIPWISE_MATMUL_NARROW=vit-ab-narrow.json,gpt2-ab-narrow.json CLIPWISE_MATMUL_TUNING=vit-ab-tuning.json ...
// A switch is on where `abVerdict` says it wins every private configuration of its first (target)
// file and no configuration of any file loses; off otherwise. The non-private row is left out of the
// target's test (some switches, e.g. the ghost-norm tiles, do not touch it). Without its target
// A/B a switch gets no line: its default stays. One comment line per configuration says why.
import { readFileSync } from 'node:fs';
import { abPairs, abVerdict, AB_SWITCHES, type AbSwitch, type BenchRow } from '../src/profile/run-bench';

function pairsOf(file: string): ReturnType<typeof abPairs> | null {
  try {
    const rows = JSON.parse(readFileSync(file, 'utf8')) as BenchRow[];
    const ab = Object.keys(AB_SWITCHES).find((s) => rows.some((r) => r.grouping.endsWith(` +${s}`))) as AbSwitch | undefined;
    return ab ? abPairs(rows, ab) : [];
  } catch (e) {
    console.log(`# ${file} unreadable (${(e as Error).message.split('\n')[0]})`);
    return null;
  }
}

for (const arg of process.argv.slice(2).filter((a) => a !== '--')) {
  const [env, list = ''] = arg.split('=', 2) as [string, string?];
  let adopted = true;
  let missing = false;
  list.split(',').forEach((file, k) => {
    const pairs = pairsOf(file);
    if (pairs === null || (k === 0 && pairs.length === 0)) {
      missing ||= k === 0;
      return;
    }
    for (const p of pairs) {
      const verdict = abVerdict(p);
      console.log(`# ${env} ${file.split('/').pop()} ${p.configuration}: on - off median ${p.medianDiffMs.toFixed(1)} ms, spread ${p.spreadMs.toFixed(1)}, on faster ${p.onFaster} of ${p.rounds}: ${verdict}`);
      if ((k === 0 && verdict !== 'wins' && p.configuration !== 'non-private') || verdict === 'loses') adopted = false;
    }
  });
  console.log(missing ? `# ${env}: no verdict without its A/B: the default stays` : `export ${env}=${adopted ? 'on' : 'off'}`);
}
