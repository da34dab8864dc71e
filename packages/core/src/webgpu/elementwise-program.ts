import type { WebGpuProgram } from './webgpu-program';
import { flatDispatch } from './webgpu-program';

/** An input of an element-wise program: `full` has the output's size; `suffix` is 1-D and repeats along leading axes (a bias [d] over [N, d]). Names are single upper-case letters. */
export interface ElementwiseInput {
  readonly name: string;
  readonly broadcast: 'full' | 'suffix';
}

/**
 * One WGSL kernel for an element-wise expression over several inputs: `expr` reads each input's
 * element as a value named like the input (`X`, `G`, ...) and writes `result[i]`. Replaces chains of
 * TF.js element-wise kernels (each a separate launch: launches, not flops, bound our steps on webgpu).
 * `key` must identify the expression (pipelines are cached by it).
 */
export class ElementwiseProgram implements WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [256, 1, 1];
  size = true;

  constructor(
    outputShape: readonly number[],
    private readonly inputs: readonly ElementwiseInput[],
    private readonly expr: string,
    key: string,
  ) {
    // any shape: the kernel indexes every buffer flat, so callers need no reshapes (each an engine op)
    const size = outputShape.reduce((a, b) => a * b, 1);
    this.outputShape = [...outputShape];
    this.variableNames = inputs.map((i) => i.name);
    this.dispatch = flatDispatch(size, this.workgroupSize[0]);
    this.shaderKey = `clipwiseElementwise_${key}_${inputs.map((i) => i.broadcast).join('')}`;
  }

  getUserCode(): string {
    const reads = this.inputs
      .map((inp) =>
        inp.broadcast === 'full'
          ? `let ${inp.name.toLowerCase()} = ${inp.name}[i];`
          : `let ${inp.name.toLowerCase()} = ${inp.name}[i % uniforms.${inp.name.toLowerCase()}Shape];`,
      )
      .join('\n    ');
    return /* wgsl */ `
fn main(i : i32) {
  if (i < uniforms.size) {
    ${reads}
    result[i] = ${this.expr};
  }
}`;
  }
}
