import * as tf from '@tensorflow/tfjs-core';
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { accountantFromLedger } from '@clipwise/accountant';
import { checkParamsBindable, gpuPoolStats, recordMatmulProblems, throwIfDeviceError, setupBackend, trimGpuBufferPool, tuneMatmulProblems, type MatmulProblem } from '@clipwise/core';
import {
  Gpt2SubsetTokenizer, WordTokenizer, loadPretrained, matchesModuleToSave, mergeLora, savePretrained, type Gpt2Model, type PretrainedModel, type VitModel,
} from '@clipwise/models/node';
import { PrivateGradients } from '@clipwise/optim';
import { progressCallback } from '../progress/progress';
import { UsageError } from '../usage-error';
import { buildAccountant, buildGradients, buildGrouping, buildOptimizer, buildSampler, noiseMultiplierFor } from './build-training';
import { buildModel, modelSpec, readFolderVocab } from './build-model';
import { ADAPTER_DIR, checkpointDir, MODEL_DIR, saveCheckpoint, type CheckpointParts } from './checkpoint';
import { checkNoiseDraws, checkResumedRun, findCheckpoint, incompleteCheckpoint, readCheckpoint, restoring } from './read-checkpoint';
import { evaluate, generationSettingsOf, type EvalResult } from './evaluate';
import { RunLog } from './run-log';
import type { StepRecord } from './step-record';
import { datasetSize, inferTask, loadTaskData } from './task-data';
import { PRIVACY_FIELDS, privacyConflict, resolveConfig, type DiagnosticsMode, type TrainConfig } from './train-config';
import { takeTrainStep, type TrainStepResult } from './train-step';
import { formatEta } from '../progress/format-eta';
import { perSampleLossFn } from './per-sample-loss';
import { applyTrainable, loraModulesToSaveOf, type TrainedSubset } from './trainable-setup';
import { writeReports } from './write-reports';

export interface TrainResult {
  /** 'done': all planned steps; 'budget': stopped before exceeding --epsilon; 'halted': --halt-after. */
  status: 'done' | 'budget' | 'halted';
  step: number;
  epsilon: number | null;
  lastEval: EvalResult | null;
}

/**
 * Picks the config: fresh from the flags, or the checkpoint's with the non-privacy flags of this
 * call. A resume reads and checks the whole checkpoint first (`readCheckpoint`): nothing runs, and
 * nothing in OUT changes, unless it is complete and consistent.
 */
async function chooseConfig(given: Partial<TrainConfig>, log: (s: string) => void): Promise<{ config: TrainConfig; resumed?: CheckpointParts }> {
  const out = given.out ?? resolveConfig({ data: '-', ...given }).out;
  const found = findCheckpoint(out);
  if (found.kind === 'incomplete') throw incompleteCheckpoint(out);
  if (!given.resume) {
    if (found.kind === 'complete') throw new UsageError(`--out ${out} already holds a checkpoint (step ${found.step}); pass --resume to continue it, or choose another --out`);
    return { config: resolveConfig(given) };
  }
  if (found.kind === 'none') {
    log(`--resume: no checkpoint in ${checkpointDir(out)}; starting a new run`);
    return { config: resolveConfig(given) };
  }
  const resumed = await readCheckpoint(out);
  // a checkpoint from before --diagnostics ran with today's 'raw' (and no clip-count release)
  resumed.state.config.diagnostics ??= 'raw';
  // and one from before --vit-qkv held q, k, v apart
  resumed.state.config['vit-qkv'] ??= 'separate';
  const conflict = privacyConflict(resumed.state.config, given);
  if (conflict) throw new UsageError(conflict);
  const overrides = Object.fromEntries(Object.entries(given).filter(([k]) => !(PRIVACY_FIELDS as readonly string[]).includes(k)));
  return { config: { ...resumed.state.config, ...overrides, resume: true } as TrainConfig, resumed };
}

/**
 * The log line of a step under `--diagnostics`: 'raw' keeps the exact loss and norm statistics (NOT
 * PRIVATE, marked as such by `diagnostics`), 'private' only the noisy clip fractions, 'off' neither.
 * Thresholds and adaptive thresholds' released fractions are part of the private mechanism and always kept.
 */
function stepRecord(
  step: number, diagnostics: DiagnosticsMode, batchSize: number, lossSum: number, epsilon: number | null, released: TrainStepResult['released'], stepMs: number,
): StepRecord {
  const groups = 'groups' in released
    ? released.groups.map((g, m) => ({
      group: g.group, threshold: g.threshold,
      ...(released.thresholds ? { unclippedFraction: released.thresholds.unclippedFractions[m]! } : {}),
      ...(diagnostics !== 'off' && released.noisyClipFractions ? { noisyClipFraction: released.noisyClipFractions[m]! } : {}),
      ...(diagnostics === 'raw' ? { clipFraction: g.clipFraction, medianNorm: g.medianNorm, maxNorm: g.maxNorm } : {}),
    }))
    : [];
  return {
    step, diagnostics, ...(diagnostics === 'raw' ? { loss: batchSize ? lossSum / batchSize : null } : {}), batchSize, epsilon, groups, stepMs,
  };
}

/** Optional callbacks of {@link runTrain}, for callers that watch a run (tests, presets such as the demo). */
export interface TrainHooks {
  /** After each step is logged; the step's gradients are applied and freed. */
  onStep?: (record: StepRecord) => void;
  /**
   * After each write of a checkpoint, with the file's path in OUT/checkpoint (see `saveCheckpoint`):
   * tests copy the folder here, or throw to cut the checkpoint at that write.
   */
  onCheckpointWrite?: (file: string) => void | Promise<void>;
}

/** `clipwise train`: see README.md. Throws UsageError for bad input. */
export async function runTrain(given: Partial<TrainConfig>, log: (s: string) => void, hooks: TrainHooks = {}): Promise<TrainResult> {
  const wallStart = performance.now();
  const { config, resumed } = await chooseConfig(given, log);
  const task = inferTask(config);
  const spec = await modelSpec(config);
  if (config['vit-qkv'] === 'packed' && spec.type !== 'vit') throw new UsageError(`--vit-qkv packed applies to ViT models; --model ${config.model} is a GPT-2 (its c_attn is packed already)`);
  if ((task === 'images') !== (spec.type === 'vit')) throw new UsageError(`--model ${config.model} is a ${spec.type === 'vit' ? 'ViT' : 'GPT-2'}, which cannot train --task ${task}`);
  const { backend, threads } = await setupBackend(config.backend, { wasmThreads: config.threads });
  const folderVocab = spec.fromDir && spec.type === 'gpt2' ? readFolderVocab(config.model) : undefined;
  if (task !== 'images' && !config.tokenizer) config.tokenizer = folderVocab ? 'gpt2-subset' : spec.fromDir && spec.type === 'gpt2' && spec.config.vocab_size === 257 ? 'byte' : spec.fromDir ? 'gpt2' : 'byte';
  const imageSize = spec.type === 'vit' ? spec.config.image_size : 0;
  const data = await loadTaskData(config, task, config.tokenizer ?? 'byte', imageSize, resumed?.tokenizer ?? folderVocab);
  const n = datasetSize(data);
  const headTrains = (loraModulesToSaveOf(config['lora-modules-to-save']) ?? []).some((name) => matchesModuleToSave('classifier', name));
  if (config['lora-rank'] !== undefined && !headTrains && spec.type === 'vit' && spec.fromDir && data.kind === 'images' && spec.config.num_labels !== data.train.numClasses) {
    // a new head must train: peft trains it through modules_to_save (buildModel re-initialises it, as for full fine-tuning)
    throw new UsageError(
      `--lora-rank on --model ${config.model}: its head has ${spec.config.num_labels} classes and the data ${data.train.numClasses}, so the head would be ` +
        'newly initialised, and LoRA freezes it at random values. Add --lora-modules-to-save classifier (peft\'s modules_to_save: the new head trains in full beside the adapters), ' +
        'or use --trainable bias,classifier (DP-BiTFiT with the head) or full fine-tuning instead',
    );
  }
  const batch = config['batch-size'];
  if (batch > n) throw new UsageError(`--batch-size ${batch} gives q = B/N = ${batch}/${n} > 1 (only ${n} training examples); use --batch-size ≤ ${n}`);
  const q = batch / n;
  const stepsPerEpoch = Math.max(1, Math.floor(n / batch));
  const totalSteps = config.steps ?? config.epochs! * stepsPerEpoch;
  const planned = noiseMultiplierFor(config, q, totalSteps);
  if (resumed) checkResumedRun(resumed, config.out, { n, sampleRate: q, plannedSteps: totalSteps, sigma: planned });
  // The checkpoint's σ (equal to within rounding): the ledger merges steps of exactly equal σ.
  const sigma = resumed ? resumed.state.noiseMultiplier : planned;

  const model = resumed
    ? await restoring(config.out, `${MODEL_DIR}/`, () =>
        loadPretrained(path.join(checkpointDir(config.out), MODEL_DIR), { ...(spec.type === 'vit' ? { vitQkv: config['vit-qkv'] } : {}), onProgress: progressCallback('loading the checkpoint, parameters') }))
    : await buildModel(spec, config, data.kind === 'images' ? { numLabels: data.train.numClasses } : { vocabSize: data.tokenizer.vocabSize, seqLen: data.train.t });
  let trained: TrainedSubset;
  try {
    const adapterDir = resumed && config['lora-rank'] !== undefined ? path.join(checkpointDir(config.out), ADAPTER_DIR) : undefined;
    checkParamsBindable(model.params);
    trained = await applyTrainable(model, config, adapterDir);
    if (resumed) checkNoiseDraws(resumed, config.out, trained.params.length);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const params = trained.params;
  const grouping = buildGrouping(config, params);
  const sampler = buildSampler(config, n, resumed);
  const accountant = buildAccountant(config, resumed);
  const gradients = buildGradients(config, params, grouping, sigma, sampler.expectedBatchSize, resumed);
  const optimizer = buildOptimizer(config, params, totalSteps, resumed);
  const lossOf = perSampleLossFn(model, data);

  await mkdir(config.out, { recursive: true });
  const stepLog = new RunLog<StepRecord>(path.join(config.out, 'log.jsonl'));
  const evalLog = new RunLog<EvalResult>(path.join(config.out, 'evals.jsonl'));
  let step = resumed?.state.step ?? 0;
  await stepLog.reset(step);
  await evalLog.reset(step);

  log(`backend: ${backend}${threads > 1 ? ` (${threads} threads)` : ''} | task: ${task} | data: ${n} examples${data.kind !== 'images' ? ` × ${data.train.t} tokens (${config.tokenizer} tokenizer, vocabulary ${data.tokenizer.vocabSize})` : ` (${data.train.numClasses} classes)`} | model: ${config.model}, ${trained.totalScalars.toLocaleString('en')} parameters | trains: ${trained.mode}, ${trained.trainedScalars.toLocaleString('en')} parameters in ${params.length} tensors`);
  log(
    sigma === null
      ? `NOT PRIVATE (--no-dp): ${totalSteps} steps, ${config.sampling} sampling, batch ${batch}`
      : `privacy: ${config.epsilon !== undefined ? `target ε=${config.epsilon}` : 'no ε target'}, δ=${config.delta}, σ=${sigma.toFixed(4)} (${config.accountant}), ${config.sampling} q=${q.toFixed(4)}, ${totalSteps} steps | clipping: ${config.clipping}, ${grouping.strategy}, ${grouping.groups.length} groups, C=${config['clip-norm']}`,
  );
  if (gradients instanceof PrivateGradients && gradients.thresholdPolicy.kind === 'adaptive') {
    const p = gradients.thresholdPolicy;
    log(
      `thresholds: adaptive, target quantile γ=${p.targetQuantile}, η=${p.learningRate}, count noise σ_b=${p.countNoise.toPrecision(4)} per group ` +
        `(count sensitivity sqrt(M)/2=${p.countSensitivity.toPrecision(4)}, noise multiplier ${p.countNoiseMultiplier.toPrecision(4)}); ` +
        `gradient σ=${gradients.options.noiseMultiplier.toFixed(4)}, whole step σ_eff=${sigma!.toFixed(4)} (accounted)`,
    );
  }
  if (gradients instanceof PrivateGradients) {
    const clip = gradients.releases.find((x) => x.quantity === 'clip-counts');
    if (clip) {
      log(
        `diagnostics: private, per-group clip fractions released with count noise σ_c=${clip.noiseStd.toPrecision(4)} per group (noise multiplier ${clip.noiseMultiplier.toPrecision(4)}); ` +
          `gradient σ=${gradients.options.noiseMultiplier.toFixed(4)}, whole step σ_eff=${sigma!.toFixed(4)} (accounted); training loss only on evaluation data`,
      );
    } else if (config.diagnostics === 'private') {
      log('diagnostics: private, clip fractions from the adaptive thresholds\' released counts (no further release); training loss only on evaluation data');
    }
  }
  if (config.diagnostics === 'raw' && sigma !== null) log('diagnostics: raw: the exact training loss and norm statistics in log.jsonl are NOT PRIVATE (they stay out of the report)');
  if (config.diagnostics === 'off') log('diagnostics: off');
  if (resumed) log(`resumed from ${checkpointDir(config.out)} at step ${step}${accountant ? `, ε=${accountant.epsilon(config.delta).toFixed(3)}` : ''}`);

  const evals = { last: null as EvalResult | null, lastStep: -1, checkpointStep: -1 };
  const runEval = async () => {
    evals.lastStep = step;
    // webgpu's pooled buffers are sized for the training step's shapes, then for the evaluation's
    trimGpuBufferPool(0);
    const e = await evaluate(model, data, step, generationSettingsOf(config));
    // an eval computed by command buffers the device rejected is not a result
    throwIfDeviceError(`the evaluation at step ${step}`);
    trimGpuBufferPool(0);
    evals.last = e;
    if (!e) return;
    await evalLog.append(e);
    log(`eval @ step ${step}: loss ${e.loss.toFixed(4)}${e.perplexity !== undefined ? ` perplexity ${e.perplexity.toFixed(2)}` : ''}${e.accuracy !== undefined ? ` accuracy ${(100 * e.accuracy).toFixed(1)}%` : ''}${e.bleu !== undefined ? ` BLEU ${(100 * e.bleu).toFixed(2)} ROUGE-L ${(100 * e.rougeL!).toFixed(2)} (${e.generated} MRs)` : ''}`);
  };
  let budgetExhausted = resumed?.state.budgetExhausted ?? false;
  const checkpoint = async () => {
    evals.checkpointStep = step;
    await saveCheckpoint(config.out, model, {
      state: { version: 1, step, config, noiseMultiplier: sigma, budgetExhausted },
      ledger: accountant ? accountant.toJSON() : null,
      sampler: sampler.toJSON(),
      noise: gradients instanceof PrivateGradients ? gradients.toJSON() : null,
      optimizer: await optimizer.stateParts(),
      tokenizer: data.kind !== 'images' && (data.tokenizer instanceof WordTokenizer || data.tokenizer instanceof Gpt2SubsetTokenizer) ? data.tokenizer.toJSON() : null,
    }, hooks.onCheckpointWrite);
  };

  if (step === 0) await runEval();
  let epsilon = accountant && accountant.steps > 0 ? accountant.epsilon(config.delta) : accountant ? 0 : null;
  let status: TrainResult['status'] = 'done';
  let processSamples = 0;
  let processMs = 0;
  let stepsThisProcess = 0;
  while (step < totalSteps && !budgetExhausted) {
    if (config['halt-after'] !== undefined && stepsThisProcess >= config['halt-after']) {
      status = 'halted';
      break;
    }
    if (accountant && config.epsilon !== undefined) {
      // Ask before spending: one more step must keep ε within the target.
      const next = accountantFromLedger(accountant.toJSON()).step(sigma!, sampler.sampleRate).epsilon(config.delta);
      if (next > config.epsilon) {
        budgetExhausted = true;
        log(`stopping before step ${step + 1}: it would spend ε=${next.toFixed(4)} > target ${config.epsilon} (spent so far ε=${epsilon!.toFixed(4)})`);
        break;
      }
    }
    // webgpu: the first step of the process records its matmul shapes; they are tuned after it
    const tune = stepsThisProcess === 0 && tf.getBackend() === 'webgpu' && (config['matmul-tuning'] ?? process.env.CLIPWISE_MATMUL_TUNING ?? 'off') === 'on';
    if (tune) recordMatmulProblems(true);
    let taken: Awaited<ReturnType<typeof takeTrainStep>>;
    let problems: MatmulProblem[] = [];
    try {
      taken = await takeTrainStep({
        sampler, gradients, optimizer, lossOf, maxPhysicalBatch: config['max-physical-batch'], accountant: accountant && { accountant, noiseMultiplier: sigma! },
      });
    } finally {
      if (tune) problems = recordMatmulProblems(false);
    }
    const { indices, lossSum, released, stepMs } = taken;
    if (accountant) epsilon = accountant.epsilon(config.delta);
    step++;
    stepsThisProcess++;
    processMs += stepMs;
    processSamples += indices.length;
    const record = stepRecord(step, config.diagnostics ?? 'raw', indices.length, lossSum, epsilon, released, stepMs);
    await stepLog.append(record);
    trimGpuBufferPool(); // webgpu: Poisson batch sizes vary, and its buffer pool keeps every size
    if (tune) {
      const t0 = performance.now();
      const tuned = await tuneMatmulProblems(problems);
      trimGpuBufferPool();
      const changed = tuned.filter((r) => r.chosen.tile !== r.before.tile || r.chosen.splits !== r.before.splits).length;
      log(`tuned the matmul tiles of ${tuned.length} shapes in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${changed} run another tile than the heuristic's (--matmul-tuning on asked for it)`);
    }
    hooks.onStep?.(record);
    const etaS = ((totalSteps - step) * processMs) / stepsThisProcess / 1000;
    log(
      `step ${step}/${totalSteps}${record.loss === undefined ? '' : `  loss ${record.loss === null ? '-' : record.loss.toFixed(4)}`}  B=${indices.length}  ${((1000 * processSamples) / processMs).toFixed(1)} samples/s  ` +
        `ETA ${formatEta(etaS)}${epsilon === null ? '' : `  ε=${epsilon.toFixed(3)}`}`,
    );
    const evalNow = config['eval-every'] !== undefined ? step % config['eval-every'] === 0 : step % stepsPerEpoch === 0;
    if (evalNow || step === totalSteps) {
      await runEval();
      await checkpoint();
    }
  }
  if (budgetExhausted) status = 'budget';
  if (status !== 'halted' && evals.lastStep !== step) await runEval();
  if (status !== 'done' || evals.checkpointStep !== step) await checkpoint();
  if (status === 'halted') {
    log(`halted after ${stepsThisProcess} steps (--halt-after) at step ${step}; checkpoint in ${checkpointDir(config.out)}; continue with --resume --out ${config.out}`);
  } else {
    if (config['lora-rank'] !== undefined) {
      // the final checkpoint holds the adapter at this step already: copy it rather than read the device again
      await cp(path.join(checkpointDir(config.out), ADAPTER_DIR), path.join(config.out, ADAPTER_DIR), { recursive: true });
      log(`adapter (peft format) in ${path.join(config.out, ADAPTER_DIR)}`);
      if (config['merge-adapter']) {
        mergeLora(model); // the modules to save are the model's own weights: the merged folder holds them as trained
        await savePretrained(model, path.join(config.out, 'merged'));
        log(`merged model (adapter folded into the weights) in ${path.join(config.out, 'merged')}`);
      }
    }
    await writeReports({
      config, task, data, grouping, accountant, sigma, q, n, steps: stepLog.read(), evals: evalLog.read(), status, wallMs: performance.now() - wallStart,
      expectedBatchSize: sampler.expectedBatchSize, gradients: gradients instanceof PrivateGradients ? gradients : null, trained, devicePeak: gpuPoolStats(),
    });
    log(
      status === 'budget'
        ? `stopped at step ${step} of ${totalSteps}: the ε budget ${config.epsilon} is spent`
        : `done: ${step} steps${epsilon === null ? ' (not private)' : `, ε=${epsilon.toFixed(4)} at δ=${config.delta} for everything released (${gradients instanceof PrivateGradients ? gradients.releases.map((x) => x.quantity).join(' + ') : ''})`}; report in ${path.join(config.out, 'report')}`,
    );
  }
  optimizer.dispose();
  model.dispose();
  return { status, step, epsilon, lastEval: evals.last };
}
