import type { WebGpuProgram } from './webgpu-program';

/** An input of a row program: `row` is [rows, d] (element j of this row), `vec` is [d] shared by all rows, `scalar` is [rows] (one value a row). */
export interface RowInput {
  readonly name: string;
  readonly kind: 'row' | 'vec' | 'scalar';
}

/** A reduction over the row: `expr` (per element j) folded by sum or max into a value named `name`. */
export interface RowReduction {
  readonly name: string;
  readonly expr: string;
  readonly op: 'sum' | 'max';
}

export interface RowSpec {
  readonly key: string;
  readonly inputs: readonly RowInput[];
  /** Phases of reductions; a phase's expressions may use the results of earlier phases. */
  readonly phases: ReadonlyArray<readonly RowReduction[]>;
  /** The output element j; may use every reduction result, `row`, `j` and the inputs. */
  readonly out: string;
  /** Output one value a row ([rows], `out` may use only reductions and `row`) instead of [rows, d]. */
  readonly perRow?: boolean;
}

const WG = 128;

/**
 * One workgroup per row of length d: reductions over the row (tree reduction in workgroup memory,
 * several per phase), then an element-wise output. Layer norm forward/backward and (masked) softmax
 * forward/backward are each one launch with it, instead of 6–12 TF.js kernels.
 * Values available to expressions: the inputs' elements as lower-case names (`x` for input `X`),
 * `row` and `j` (i32), `d` (f32 row length), and earlier reductions by name.
 */
export class RowProgram implements WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WG, 1, 1];
  uniforms = 'rowLength : i32, numRows : i32,';

  constructor(
    private readonly rows: number,
    private readonly d: number,
    private readonly spec: RowSpec,
    /** The output's shape (any with rows·d elements, or rows with `perRow`): buffers are indexed flat. */
    outputShape?: readonly number[],
  ) {
    this.outputShape = outputShape ? [...outputShape] : spec.perRow ? [rows] : [rows, d];
    this.variableNames = spec.inputs.map((i) => i.name);
    this.dispatch = [rows, 1, 1];
    this.shaderKey = `clipwiseRow_${spec.key}`;
  }

  getUserCode(): string {
    const { inputs, phases, out } = this.spec;
    const maxPerPhase = Math.max(1, ...phases.map((p) => p.length));
    const reads = inputs
      .map((inp) => `let ${inp.name.toLowerCase()} = ${inp.name}[${inp.kind === 'row' ? 'base + j' : inp.kind === 'vec' ? 'j' : 'min(row, uniforms.numRows - 1)'}];`)
      .join('\n      ');
    const phaseCode = phases
      .map((phase, pi) => {
        const init = phase.map((r) => `var acc_${r.name} = ${r.op === 'sum' ? '0.0' : '-3.402823e38'};`).join('\n  ');
        const fold = phase.map((r) => (r.op === 'sum' ? `acc_${r.name} = acc_${r.name} + (${r.expr});` : `acc_${r.name} = max(acc_${r.name}, ${r.expr});`)).join('\n      ');
        const store = phase.map((r, k) => `red[${k} * ${WG} + lid] = acc_${r.name};`).join('\n  ');
        const combine = phase
          .map((r, k) => {
            const a = `red[${k} * ${WG} + lid]`;
            const b = `red[${k} * ${WG} + lid + stride]`;
            return r.op === 'sum' ? `${a} = ${a} + ${b};` : `${a} = max(${a}, ${b});`;
          })
          .join('\n      ');
        const read = phase.map((r, k) => `let ${r.name} = red[${k} * ${WG}];`).join('\n  ');
        return `
  // phase ${pi}
  ${init}
  for (var j = lid; j < n; j = j + ${WG}) {
      ${reads}
      ${fold}
  }
  ${store}
  workgroupBarrier();
  for (var stride = ${WG / 2}; stride > 0; stride = stride >> 1u) {
    if (lid < stride) {
      ${combine}
    }
    workgroupBarrier();
  }
  ${read}
  workgroupBarrier();`;
      })
      .join('\n');
    return /* wgsl */ `
var<workgroup> red : array<f32, ${WG * maxPerPhase}>;
fn main(index : i32) {
  let row = i32(workgroupId.x + workgroupId.y * numWorkgroups.x + workgroupId.z * numWorkgroups.x * numWorkgroups.y);
  let lid = i32(localId.x);
  let n = uniforms.rowLength;
  let d = f32(n);
  // no early return: every thread must reach the barriers (extra workgroups exist when the backend folds a large dispatch)
  let inRange = row < uniforms.numRows;
  let base = min(row, uniforms.numRows - 1) * n;
  ${phaseCode}
  ${
    this.spec.perRow
      ? `if (inRange && lid == 0) { result[row] = ${out}; }`
      : `for (var j = lid; j < n; j = j + ${WG}) {
      ${reads}
      if (inRange) { result[base + j] = ${out}; }
  }`
  }
}`;
  }
}
