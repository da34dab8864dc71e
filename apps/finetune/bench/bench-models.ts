// Shared by the kernel benchmarks (ghost-norm-kernel.ts, clip-product.ts): core as they load it, and the
// linear layers of the models they time.

/** Core on webgpu: this build's, or another's (CLIPWISE_CORE_DIST=path/to/dist/index.js, a before). */
export async function loadBenchCore(): Promise<typeof import('@clipwise/core')> {
  const core = (await import(process.env.CLIPWISE_CORE_DIST ?? '@clipwise/core')) as typeof import('@clipwise/core');
  await core.setupBackend('webgpu');
  return core;
}

/** A model's linear layers, all with a bias: one block's [d, p] (input and output widths) in order, `blocks` times, at batch B and length T. */
export interface BenchModel {
  readonly key: 'gpt2' | 'vit' | 'vit-packed';
  readonly name: string;
  readonly b: number;
  readonly t: number;
  readonly block: readonly (readonly [number, number])[];
  readonly blocks: number;
}

/** GPT-2 small at B16×T128; ViT-B/16 at B32 (T = 197) with q, k, v separate (Hugging Face's layout) or packed (timm's). */
export const BENCH_MODELS: Record<BenchModel['key'], BenchModel> = {
  gpt2: { key: 'gpt2', name: 'GPT-2 small', b: 16, t: 128, block: [[768, 2304], [768, 768], [768, 3072], [3072, 768]], blocks: 12 },
  vit: { key: 'vit', name: 'ViT-B/16', b: 32, t: 197, block: [[768, 768], [768, 768], [768, 768], [768, 768], [768, 3072], [3072, 768]], blocks: 12 },
  'vit-packed': { key: 'vit-packed', name: 'ViT-B/16', b: 32, t: 197, block: [[768, 2304], [768, 768], [768, 3072], [3072, 768]], blocks: 12 },
};

/** Every linear layer of a step, in order. */
export const stepLayers = (m: BenchModel): [number, number][] => Array.from({ length: m.blocks }, () => m.block.map(([d, p]) => [d, p] as [number, number])).flat();

/**
 * The distinct [d, p] of a step and how many layers have each, in first-seen order.
 *
 * @example
 * distinctLayers(BENCH_MODELS.gpt2); // [[768, 2304, 12], [768, 768, 12], [768, 3072, 12], [3072, 768, 12]]
 */
export function distinctLayers(m: BenchModel): [number, number, number][] {
  const counts = new Map<string, [number, number, number]>();
  for (const [d, p] of m.block) {
    const seen = counts.get(`${d}x${p}`);
    if (seen) seen[2] += m.blocks;
    else counts.set(`${d}x${p}`, [d, p, m.blocks]);
  }
  return [...counts.values()];
}
