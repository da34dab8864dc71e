import type { ParamSpec } from '@clipwise/core';
import { ClipwiseGroupingError, listNames } from '../errors';
import { rejectUnknownOptions } from '../option-checks';
import type { GroupingStrategy } from '../types';

/**
 * `per-device`: one group per `device` tag, named after the device, in order of first appearance in
 * forward order. With pipeline parallelism each device then clips its own parameters without
 * exchanging norms (He et al. 2022, "Exploring the limits of differentially private deep learning
 * with group-wise clipping"). Every parameter must carry a device tag.
 *
 * @example
 * resolveGrouping('per-device', params, { clipNorm: 1 }).groups.map((g) => g.name); // ['gpu:0', 'gpu:1']
 */
export const perDevice: GroupingStrategy = {
  name: 'per-device',
  summary: "one group per device tag (ParamSpec.device), for pipeline-parallel training",
  group(params, options) {
    rejectUnknownOptions('per-device', options, []);
    const untagged = params.filter((p) => typeof p.device !== 'string' || p.device === '').map((p) => p.name);
    if (untagged.length) {
      throw new ClipwiseGroupingError(
        `grouping 'per-device' needs a device tag on every parameter, but ${listNames(untagged)} ` +
          `${untagged.length === 1 ? 'has' : 'have'} none; expected ParamSpec.device set (e.g. 'gpu:0'). ` +
          'Tag the layers with their device when building the model, or choose another grouping.',
      );
    }
    const byDevice = new Map<string, ParamSpec[]>();
    for (const p of params) {
      const group = byDevice.get(p.device!);
      if (group) group.push(p);
      else byDevice.set(p.device!, [p]);
    }
    return [...byDevice].map(([device, members]) => ({ name: device, params: members }));
  },
};
