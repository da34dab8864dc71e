// The messages between the page (main.ts) and the training worker (training-worker.ts).
import type { WeightDigest } from './weight-digest';

/** The data to train on: the shipped E2E sample, or a file the user dropped. */
export type TrainingData =
  | { readonly kind: 'sample'; readonly trainCsv: string; readonly testCsv: string }
  | { readonly kind: 'file'; readonly name: string; readonly text: string };

/** What the page asks the worker to run. */
export interface TrainRequest {
  readonly data: TrainingData;
  /** The model: its `config.json` text and `model.safetensors` bytes. */
  readonly model: { readonly configJson: string; readonly weights: ArrayBuffer };
  readonly epsilon: number;
  readonly delta: number;
  /** A grouping spec as `clipwise train --grouping` takes it: 'layer-wise', 'all-layer', 'uniform:2'. */
  readonly grouping: string;
  readonly steps: number;
  /** Expected (Poisson) batch size q·N. */
  readonly batchSize: number;
  /** Evaluation examples for the loss before and after (the first ones of the held-out part). */
  readonly evalLimit: number;
  /** Tokens generated for the sample before and after. */
  readonly genTokens: number;
  /** 'auto' (WebGPU, else wasm, else cpu), 'wasm' or 'cpu'. */
  readonly backend: 'auto' | 'wasm' | 'cpu';
}

export type PageToWorker = { readonly type: 'train'; readonly request: TrainRequest } | { readonly type: 'stop' };

/** One group's clipping in a step (local diagnostics: exact, not noised). */
export interface GroupClip {
  readonly group: string;
  readonly clipFraction: number;
}

/** An evaluation: the held-out loss and one generation. */
export interface Evaluation {
  readonly loss: number;
  readonly perplexity: number;
  readonly prompt: string;
  readonly generated: string;
}

export type WorkerToPage =
  | { readonly type: 'status'; readonly text: string }
  | {
    readonly type: 'started';
    readonly backend: string;
    readonly trainExamples: number;
    readonly noiseMultiplier: number;
    readonly groups: readonly string[];
  }
  | { readonly type: 'evaluated'; readonly when: 'before' | 'after'; readonly evaluation: Evaluation }
  | {
    readonly type: 'step';
    readonly step: number;
    /** Mean loss over the realised batch (NaN for an empty Poisson batch); exact, not private. */
    readonly loss: number;
    readonly epsilon: number;
    readonly batchSize: number;
    readonly stepMs: number;
    readonly groups: readonly GroupClip[];
  }
  | {
    readonly type: 'done';
    readonly stopped: boolean;
    readonly steps: number;
    readonly epsilon: number;
    readonly statement: string;
    readonly notCovered: readonly string[];
    /** The fine-tuned model as safetensors (Hugging Face names), and its config.json. */
    readonly safetensors: ArrayBuffer;
    readonly configJson: string;
    /** The fine-tuned weights' fingerprint, to check a download against. */
    readonly weightDigest: WeightDigest;
  }
  | { readonly type: 'error'; readonly message: string };
