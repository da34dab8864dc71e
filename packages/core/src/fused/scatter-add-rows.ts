import * as tf from '@tensorflow/tfjs-core';
import { dispatchDirect, packUniforms, registerInPlaceKernel, runInPlaceKernel, withOwnStorage } from '../webgpu/direct-dispatch';
import { onWebgpu } from '../webgpu/webgpu-program';

/**
 * out[v] = Σ_{n: ids[n] = v} rows[n], summed in the order of n: an embedding's gradient (rows are dy,
 * ids the tokens) or its per-sample tables (ids offset by sample × vocabulary). Ids must lie in
 * [0, numRows), as for `tf.scatterND` (whose cpu kernel throws on others; the webgpu kernel skips them).
 *
 * Why not `tf.scatterND`: on webgpu TF.js adds the rows with float atomics, in whatever order the
 * GPU runs them, so the same step gives different low bits from run to run (on lavapipe, ~900 of
 * 1,024 elements differed between two calls), and training on webgpu was not reproducible (the
 * group-wise study's pre-training gave another model each time). Here each id's sum is formed by
 * one workgroup in a fixed order. Elsewhere `tf.scatterND`, whose cpu and wasm kernels add in order.
 *
 * With `into` ([numRows, d], float32), the sums are added to it: into[v] + Σ rows, as `tf.add(into,
 * scatterAddRows(ids, rows, numRows))` gives it, bit for bit. The call owns `into`: on webgpu it is
 * written in place and returned (a copy first if it shares its storage), so a tied weight's second
 * sum needs no table beside the first and the total (GPT-2's wte: 147 MiB each); elsewhere the sum is
 * a new tensor and `into` is freed.
 *
 * @example
 * const grad = scatterAddRows(tf.tensor1d([2, 0, 2], 'int32'), dy, 4); // [4, d]: rows 0 and 2 + dy[0], dy[1]; 1 and 3 zero
 * const total = scatterAddRows(ids, dy, vocab, headSum); // the LM head's sum plus the lookup's: headSum is consumed
 */
export function scatterAddRows(ids: tf.Tensor1D, rows: tf.Tensor2D, numRows: number, into?: tf.Tensor2D): tf.Tensor2D {
  const [n, d] = rows.shape;
  if (ids.dtype !== 'int32' || ids.rank !== 1 || ids.size !== n) throw new Error(`scatterAddRows: ids must be int32 [${n}], got ${ids.dtype} [${ids.shape}]`);
  if (!(Number.isInteger(numRows) && numRows > 0)) throw new Error(`scatterAddRows: numRows must be a positive integer, got ${numRows}`);
  if (into && (into.rank !== 2 || into.shape[0] !== numRows || into.shape[1] !== d)) throw new Error(`scatterAddRows: into must be [${numRows}, ${d}], got [${into.shape}]`);
  if (!onWebgpu() || rows.dtype !== 'float32' || n === 0 || (into && into.dtype !== 'float32')) {
    const sum = tf.tidy(() => tf.scatterND(tf.reshape(ids, [n, 1]), rows, [numRows, d]) as tf.Tensor2D);
    if (!into) return sum;
    const total = tf.add(into, sum) as tf.Tensor2D;
    tf.dispose([into, sum]);
    return total;
  }
  // rows no id names stay zero (or into's); the kernel writes the others in place. tf.fill runs on the
  // device, where tf.zeros uploads a zeroed host array (154 MB for GPT-2's wte: +115 ms a step on an H100)
  const out = into ? withOwnStorage(into) : (tf.fill([numRows, d], 0) as tf.Tensor2D);
  if (into && out !== into) into.dispose();
  runInPlaceKernel(KERNEL, { out, ids, rows }, { accumulate: into !== undefined });
  return out;
}

const KERNEL = 'ClipwiseScatterAddRows';
/** Workgroups along x before the grid wraps into y (WebGPU's per-dimension minimum limit). */
const MAX_X = 65535;
/** Columns a thread sums at once (in registers), so one scan of the positions serves 64 × this many columns. */
const MAX_LANES = 16;

registerInPlaceKernel(KERNEL, (inputs, attrs) => {
  const { out, ids, rows } = inputs as Record<string, tf.TensorInfo>;
  const [n, d] = rows!.shape as [number, number];
  const numRows = out!.shape[0]!;
  // one workgroup per position: the first position of each id sums that id's rows, the others leave
  const lanes = Math.min(MAX_LANES, Math.ceil(d / 64));
  dispatchDirect({
    key: `clipwiseScatterAddRows_${lanes}`, code: () => scatterWgsl(lanes), buffers: [{ tensor: out!, write: true }, { tensor: ids!, dtype: 'int32' }, { tensor: rows! }],
    uniforms: packUniforms([n, d, numRows, attrs['accumulate'] ? 1 : 0].map((v) => ['u', v] as const)), workgroups: grid(n),
  });
});

function grid(count: number): [number, number, number] {
  return count <= MAX_X ? [count, 1, 1] : [MAX_X, Math.ceil(count / MAX_X), 1];
}

/**
 * One workgroup per position t. If no earlier position names t's id, the workgroup sums that id's rows:
 * a thread takes columns c, c + 64, ... (`lanes` of them at once, in registers) and adds the rows of
 * the positions from t on that name the id, in position order: the same sum, bit for bit, every run;
 * with `accumulate` it adds the sum to what the row held.
 */
const scatterWgsl = (lanes: number) => /* wgsl */ `
struct U { n : u32, d : u32, numRows : u32, accumulate : u32 };
@group(0) @binding(0) var<storage, read_write> out : array<f32>;
@group(0) @binding(1) var<storage, read> ids : array<i32>;
@group(0) @binding(2) var<storage, read> rows : array<f32>;
@group(0) @binding(3) var<uniform> u : U;
var<workgroup> earlier : atomic<u32>;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let t = wg.y * ${MAX_X}u + wg.x;
  let inRange = t < u.n;
  let id = select(-1, ids[min(t, u.n - 1u)], inRange);
  // does a position before t name the same id? (then that one's workgroup sums it)
  for (var s = l.x; s < t && inRange; s = s + 64u) {
    if (ids[s] == id) { atomicOr(&earlier, 1u); }
  }
  workgroupBarrier();
  let skip = atomicLoad(&earlier) != 0u || !inRange || id < 0 || u32(id) >= u.numRows;
  if (skip) { return; }
  let base = u32(id) * u.d;
  for (var c0 = l.x; c0 < u.d; c0 = c0 + ${64 * lanes}u) {
    ${Array.from({ length: lanes }, (_, j) => `var acc${j} = 0.0;`).join(' ')}
    for (var s = t; s < u.n; s = s + 1u) {
      if (ids[s] == id) {
        let r = s * u.d + c0;
        ${Array.from({ length: lanes }, (_, j) => `if (c0 + ${64 * j}u < u.d) { acc${j} = acc${j} + rows[r + ${64 * j}u]; }`).join('\n        ')}
      }
    }
    ${Array.from({ length: lanes }, (_, j) => `if (c0 + ${64 * j}u < u.d) { let o${j} = base + c0 + ${64 * j}u; out[o${j}] = select(acc${j}, out[o${j}] + acc${j}, u.accumulate != 0u); }`).join('\n    ')}
  }
}
`;
