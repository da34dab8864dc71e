import { describe, expect, it } from 'vitest';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { CheckpointMismatchError, checkCheckpointAgainst, compareCheckpoint } from './check-checkpoint.js';
import { readSafetensorsFromBuffer } from './read-safetensors-buffer.js';
import { serializeSafetensors } from './serialize-safetensors.js';

const f32 = (...shape: number[]) => ({ dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

const { header } = readSafetensorsFromBuffer(
  serializeSafetensors({ 'wte.weight': f32(10, 4), 'h.0.attn.bias': f32(1, 1, 4, 4), 'ln_f.weight': f32(4), extra: f32(2) }),
  'gpt2.safetensors',
);

describe('checkCheckpointAgainst', () => {
  it('passes when names and shapes match', () => {
    expect(() =>
      checkCheckpointAgainst(
        [
          { name: 'wte.weight', shape: [10, 4] },
          { name: 'ln_f.weight', shape: [4] },
          { name: 'extra', shape: [2] },
        ],
        header,
        { ignoreUnexpected: (name) => name.endsWith('.attn.bias') },
      ),
    ).not.toThrow();
  });

  it('reports missing, unexpected and mis-shaped tensors by name in one error', () => {
    const expected = [
      { name: 'wte.weight', shape: [10, 8] },
      { name: 'ln_f.weight', shape: [4] },
      { name: 'ln_f.bias', shape: [4] },
    ];
    let error: unknown;
    try {
      checkCheckpointAgainst(expected, header, { ignoreUnexpected: (name) => name.endsWith('.attn.bias') });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CheckpointMismatchError);
    expect(error).toBeInstanceOf(ClipwiseModelError);
    const message = (error as Error).message;
    expect(message).toContain('checkpoint gpt2.safetensors does not match the model');
    expect(message).toContain("missing 1: 'ln_f.bias' [4]");
    expect(message).toContain("unexpected 1: 'extra' [2]");
    expect(message).toContain("mis-shaped 1: 'wte.weight' (checkpoint [10, 4], model expects [10, 8])");
    expect(message).toContain('Fix: ');
    expect(message).not.toContain('attn.bias');
    expect((error as CheckpointMismatchError).comparison).toEqual(compareCheckpoint(expected, header, { ignoreUnexpected: (n) => n.endsWith('.attn.bias') }));
  });

  it('lists at most 10 names of a kind in the message, all of them in the comparison', () => {
    const expected = Array.from({ length: 13 }, (_, i) => ({ name: `p${String(i).padStart(2, '0')}`, shape: [1] }));
    const tensors = new Map<string, { shape: number[] }>();
    let error: CheckpointMismatchError | undefined;
    try {
      checkCheckpointAgainst(expected, { tensors });
    } catch (err) {
      error = err as CheckpointMismatchError;
    }
    expect(error!.message).toContain("missing 13: 'p00' [1],");
    expect(error!.message).toContain("'p09' [1], ... and 3 more");
    expect(error!.comparison.missing).toHaveLength(13);
  });
});
