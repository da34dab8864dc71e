import type { LayerKind, ParamSpec } from '../types';
import { DPLayer } from './dp-layer';
import { createParam, nextLayerOrder, normalInit, type Initializer } from './param';

/** Options every one-parameter layer shares. */
export interface SingleWeightOptions {
  /** Parameter name; default `${layer name}.weight`. */
  weightName?: string;
  init?: Initializer;
  device?: string;
}

/** A DP-aware layer that owns one parameter, `weight` (embeddings, positions, class tokens). */
export abstract class SingleWeightLayer extends DPLayer {
  readonly weight: ParamSpec;

  protected constructor(name: string, kind: LayerKind, shape: number[], options: SingleWeightOptions, defaultName = `${name}.weight`) {
    super(name, nextLayerOrder());
    this.weight = createParam({
      name: options.weightName ?? defaultName,
      layer: name,
      kind,
      role: 'weight',
      shape,
      init: options.init ?? normalInit(0.02),
      order: this.order,
      device: options.device,
    });
  }

  get paramsByRole(): Record<string, ParamSpec> {
    return { weight: this.weight };
  }

  ownParams(): ParamSpec[] {
    return [this.weight];
  }
}
