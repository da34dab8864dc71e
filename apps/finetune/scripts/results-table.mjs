// Prints a markdown table of finished `clipwise train` runs from their report/metrics.json and privacy.json.
//   node apps/finetune/scripts/results-table.mjs RUN_DIR [RUN_DIR ...]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const rows = [];
for (const dir of process.argv.slice(2).filter((d) => !d.endsWith('.log'))) {
  const m = path.join(dir, 'report', 'metrics.json');
  if (!existsSync(m)) {
    rows.push(`| ${path.basename(dir)} | (no report: run failed or did not finish) ||||||||||||`);
    continue;
  }
  const metrics = JSON.parse(readFileSync(m, 'utf8'));
  const privacy = JSON.parse(readFileSync(path.join(dir, 'report', 'privacy.json'), 'utf8'));
  const first = metrics.evals?.[0];
  const fmt = (x, d = 3) => (x === null || x === undefined ? '–' : Number(x).toFixed(d));
  const pct = (x) => (x === null || x === undefined ? '–' : (100 * x).toFixed(1)); // BLEU, ROUGE-L as percentages
  const quality =
    metrics.task === 'images'
      ? `accuracy ${pct(first?.accuracy)}% → **${pct(metrics.evalAccuracy)}%**`
      : `BLEU ${pct(first?.bleu)} → **${pct(metrics.bleu)}**, ROUGE-L ${pct(first?.rougeL)} → **${pct(metrics.rougeL)}**`;
  rows.push(
    `| ${path.basename(dir)} | ${metrics.task} | ${metrics.trainable ?? 'all'} (${Number(metrics.trainedParameters ?? metrics.parameters).toLocaleString('en')}) | ${privacy.grouping?.spec ?? '–'} | ${fmt(privacy.targetEpsilon, 0)} | ${fmt(metrics.epsilon, 2)} | ${fmt(privacy.noiseMultiplier, 2)} | ${metrics.steps} | ${quality} | ${fmt(first?.loss)} → ${fmt(metrics.evalLoss)} | ${fmt(metrics.meanStepMs, 0)} | ${fmt(metrics.devicePeakAllocatedMiB, 0)} | ${fmt(metrics.wallSeconds, 0)} |`,
  );
}
console.log('| run | task | trained (parameters) | grouping | target ε | ε spent | σ | steps | quality before → after | eval loss before → after | step ms | GPU peak MiB | wall s |');
console.log('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
