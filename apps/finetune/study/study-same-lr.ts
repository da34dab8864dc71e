// Every grouping at the same lr, one seed: the like-for-like view beside the paired table, whose pairs
// sit at each grouping's own pick (where two picks land on different lrs, their gap mixes the lr's effect
// into the grouping's). Pure.
import type { StudyRecord } from './study-results';
import { studyCells, type StudyWant } from './study-summary';

/**
 * A markdown table: a row per (size, ε, lr) that any grouping of `want` ran at `seed`, a column per
 * grouping with its validation / test score there (loss in nats for GPT-2; accuracy in % for ViT), '–'
 * where that grouping did not run the lr. Runs of other step budgets or batch sizes than `want`'s are
 * left out, as the summary leaves them.
 *
 * @example
 * sameLrTable(records, { family: 'gpt2', sizes: ['s12m'], groupings: ['all-layer', 'layer-wise'], epsilons: [8, 3], steps: 100, batch: 256 });
 */
export function sameLrTable(
  records: readonly StudyRecord[],
  want: StudyWant,
  seed = 0,
): string {
  const vit = want.family === 'vit';
  const cells = studyCells(records, want).filter((r) => r.seed === seed && want.groupings.includes(r.grouping));
  const score = (s: { loss: number; accuracy?: number }) => (vit ? (typeof s.accuracy === 'number' ? `${(100 * s.accuracy).toFixed(2)}` : '–') : s.loss.toFixed(4));
  const lines = [
    `| size | ε | lr | ${want.groupings.join(' | ')} |`,
    `| --- | ---: | ---: | ${want.groupings.map(() => '---:').join(' | ')} |`,
  ];
  for (const size of want.sizes)
    for (const epsilon of want.epsilons) {
      const here = cells.filter((r) => r.size === size && r.epsilon === epsilon);
      for (const lr of [...new Set(here.map((r) => r.lr))].sort((a, b) => a - b)) {
        const at = want.groupings.map((g) => here.find((r) => r.grouping === g && r.lr === lr));
        lines.push(`| ${size} | ${epsilon} | ${lr} | ${at.map((r) => (r ? `${score(r.val)} / ${score(r.test)}` : '–')).join(' | ')} |`);
      }
    }
  return lines.join('\n') + '\n';
}
