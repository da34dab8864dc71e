// The model the host-time scripts (enqueue-profile.ts, enqueue-ab.ts) step: GPT-2 small's structure
// (12 layers, 12 heads) at tiny widths by default, so a step enqueues GPT-2 small's launches with
// little device work behind them. Their shared flags and the model those flags make.
import { setGhostKernelShape } from '@clipwise/core';
import { Gpt2Model } from '@clipwise/models';
import { ghostSplit } from '../src/commands/bench';

/** parseArgs options of the model's shape (`seq`: its positions), the batch and the ghost kernel's work split. */
export const HOST_MODEL_OPTIONS = {
  layers: { type: 'string', default: '12' },
  embd: { type: 'string', default: '48' },
  heads: { type: 'string', default: '12' },
  batch: { type: 'string', default: '4' },
  seq: { type: 'string', default: '16' },
  vocab: { type: 'string', default: '257' },
  'ghost-split': { type: 'string' },
} as const;

/**
 * The model of those flags (seeded; a 257-token vocabulary unless `vocab` says otherwise), with the ghost kernel's work split set:
 * `--ghost-split 16x2` on Dawn's null backend, which offers only the spec's 16 KiB of workgroup memory
 * where the default 32x2 stages 19 KiB (host time does not depend on it).
 *
 * @example
 * const { values } = parseArgs({ options: { ...HOST_MODEL_OPTIONS, steps: { type: 'string' } } });
 * const { model, batch, seq } = hostModel(values);
 */
export function hostModel(values: { layers: string; embd: string; heads: string; batch: string; seq: string; vocab?: string; 'ghost-split'?: string }): { model: Gpt2Model; batch: number; seq: number } {
  setGhostKernelShape(ghostSplit(values['ghost-split']) ?? null);
  const seq = Number(values.seq);
  const model = new Gpt2Model({ vocab_size: Number(values.vocab ?? 257), n_positions: seq, n_embd: Number(values.embd), n_layer: Number(values.layers), n_head: Number(values.heads) }, { seed: 1 });
  return { model, batch: Number(values.batch), seq };
}
