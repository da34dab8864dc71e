import * as tf from '@tensorflow/tfjs-core';
import type { LayerKind, ParamSpec } from '../types';

let nextOrder = 0;

/** Draws the next layer position; layers are numbered in construction order, so build models in forward order. */
export function nextLayerOrder(): number {
  return nextOrder++;
}

/** Initial values for a new parameter. */
export type Initializer = (shape: number[]) => tf.Tensor;

/**
 * N(0, std²) initialiser (GPT-2 and ViT use std 0.02). With a seed the values are reproducible;
 * TF.js reads seed 0 as "no seed", so seeds are shifted by one before they reach it.
 */
export function normalInit(std = 0.02, seed?: number): Initializer {
  return (shape) => tf.randomNormal(shape, 0, std, 'float32', seed === undefined ? undefined : seed + 1);
}

export const zerosInit: Initializer = (shape) => tf.zeros(shape);
export const onesInit: Initializer = (shape) => tf.ones(shape);

export interface CreateParamArgs {
  name: string;
  layer: string;
  kind: LayerKind;
  role: string;
  shape: number[];
  init: Initializer;
  order: number;
  device?: string;
  trainable?: boolean;
}

/** A trainable variable with its Clipwise description. The tf variable name is left to TF.js (it must be globally unique). */
export function createParam(args: CreateParamArgs): ParamSpec {
  const init = tf.tidy(() => args.init(args.shape));
  if (init.shape.join(',') !== args.shape.join(',')) {
    throw new Error(`createParam(${args.name}): initialiser gave shape [${init.shape}], expected [${args.shape}]`);
  }
  const variable = tf.variable(init, args.trainable ?? true);
  init.dispose();
  return {
    name: args.name,
    layer: args.layer,
    kind: args.kind,
    role: args.role,
    shape: args.shape,
    size: args.shape.reduce((a, b) => a * b, 1),
    order: args.order,
    device: args.device,
    variable,
  };
}
