import type { GroupingStrategy } from '../types';
import { allLayer } from './all-layer';
import { balanced } from './balanced';
import { layerWise } from './layer-wise';
import { nonUniform } from './non-uniform';
import { paramWise } from './param-wise';
import { perDevice } from './per-device';
import { uniform } from './uniform';

/** The strategies the registry registers at load, in the order `--help` lists them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each strategy has its own options type
export const builtInStrategies: readonly GroupingStrategy<any>[] = [
  allLayer,
  layerWise,
  paramWise,
  uniform,
  nonUniform,
  balanced,
  perDevice,
];
