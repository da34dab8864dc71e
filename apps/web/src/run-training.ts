import { calibrateNoise, createAccountant } from '@clipwise/accountant';
import { PoissonSampler, formatE2EPrompt } from '@clipwise/data';
import { PAGE_SETTINGS, noiseSeed, samplerSeed, greedyGenerate, meanTargetLoss, perSampleLossFn, privacyReport, takeTrainStep } from '@clipwise/finetune/browser';
import { ClipwiseGroupingError, resolveGrouping } from '@clipwise/grouping';
import { ByteTokenizer, Gpt2Model, loadPretrainedFromBytes, savePretrainedToBytes } from '@clipwise/models';
import { Optimizer, PrivateGradients, adamw, warmupCosineSchedule } from '@clipwise/optim';
import type { Evaluation, TrainRequest, WorkerToPage } from './protocol';
import { startBackend } from './start-backend';
import { TrainingDataError, taskFromData, type PageTask } from './task-from-data';
import { weightDigest } from './weight-digest';

/** How the run talks to the page: messages out (with transferables), and whether Stop was pressed. */
export interface TrainingChannel {
  post(message: WorkerToPage, transfer?: Transferable[]): void;
  stopRequested(): boolean;
}

/** Lets queued messages (Stop) in between steps: a step's awaits alone may never reach the event loop. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function checkRequest(r: TrainRequest): void {
  const positiveInt = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) throw new TrainingDataError(`${what} must be a whole number ≥ 1 (got ${v})`);
  };
  if (!(r.epsilon > 0) || !Number.isFinite(r.epsilon)) throw new TrainingDataError(`ε must be a number > 0 (got ${r.epsilon})`);
  if (!(r.delta > 0 && r.delta < 1)) throw new TrainingDataError(`δ must be in (0, 1) (got ${r.delta})`);
  positiveInt(r.steps, 'steps');
  positiveInt(r.batchSize, 'batch size');
  positiveInt(r.evalLimit, 'evaluation examples');
  if (!Number.isInteger(r.genTokens) || r.genTokens < 0) throw new TrainingDataError(`generated tokens must be a whole number ≥ 0 (got ${r.genTokens})`);
}

async function evaluation(model: Gpt2Model, task: PageTask, tokenizer: ByteTokenizer, genTokens: number): Promise<Evaluation> {
  const rows = task.eval!;
  const loss = await meanTargetLoss(model, rows.inputIds, rows.labelMask, rows.n, rows.t);
  const prompt = task.kind === 'e2e' ? formatE2EPrompt(task.prompt) : task.prompt;
  const generated = tokenizer.decode(await greedyGenerate(model, tokenizer.encode(prompt), genTokens, tokenizer.eotToken)).trim();
  return { loss, perplexity: Math.exp(loss), prompt, generated };
}

/**
 * One private fine-tuning run, as `clipwise demo` trains (the same step, loss, settings and privacy
 * statement; `@clipwise/finetune/browser`): load the model from bytes, build the task, calibrate σ
 * for (ε, δ) over the planned steps (RDP), evaluate, take DP-AdamW steps with Poisson sampling until
 * done or stopped, evaluate again, and post the model as safetensors. Every outcome is a message:
 * progress, each step, the result, or an error whose message names the bad input.
 */
export async function runTraining(request: TrainRequest, channel: TrainingChannel): Promise<void> {
  try {
    checkRequest(request);
    channel.post({ type: 'status', text: 'starting the TF.js backend' });
    const { backend } = await startBackend(request.backend);
    channel.post({ type: 'status', text: `loading the model (${backend} backend)` });
    const model = await loadPretrainedFromBytes({ config: request.model.configJson, weights: request.model.weights, source: 'model' }, { seed: PAGE_SETTINGS.seed });
    if (!(model instanceof Gpt2Model)) throw new TrainingDataError('the model must be a GPT-2 (config.json model_type "gpt2")');
    const tokenizer = new ByteTokenizer();
    if (model.config.vocab_size !== tokenizer.vocabSize) throw new TrainingDataError(`the model has vocab_size ${model.config.vocab_size}; the page's byte tokenizer needs ${tokenizer.vocabSize}`);
    const seqLen = Math.min(PAGE_SETTINGS['seq-len'], model.config.n_positions);
    const task = taskFromData(request.data, tokenizer, seqLen, request.evalLimit);
    const n = task.train.n;
    if (request.batchSize > n) throw new TrainingDataError(`batch size ${request.batchSize} is larger than the ${n} training examples`);
    const sampleRate = request.batchSize / n;

    let grouping;
    try {
      grouping = resolveGrouping(request.grouping, model.params, { clipNorm: PAGE_SETTINGS['clip-norm'] });
    } catch (e) {
      if (e instanceof ClipwiseGroupingError) throw new TrainingDataError(`grouping '${request.grouping}': ${e.message}`);
      throw e;
    }
    const { noiseMultiplier } = calibrateNoise({ targetEpsilon: request.epsilon, delta: request.delta, sampleRate, steps: request.steps, accountant: 'rdp' });
    const gradients = new PrivateGradients({
      params: model.params, grouping, noiseMultiplier, expectedBatchSize: request.batchSize, seed: noiseSeed(PAGE_SETTINGS.seed), clipping: { fn: 'abadi' },
    });
    const warmup = Math.min(PAGE_SETTINGS.warmup, request.steps - 1); // as a shortened `clipwise demo`
    // weight decay 0: `clipwise train`'s default --weight-decay, which the demo keeps
    const optimizer = new Optimizer(adamw({ learningRate: warmupCosineSchedule(PAGE_SETTINGS.lr, warmup, request.steps), weightDecay: 0 }), model.params);
    const sampler = new PoissonSampler({ datasetSize: n, sampleRate, seed: samplerSeed(PAGE_SETTINGS.seed) });
    const accountant = createAccountant('rdp');
    const lossOf = perSampleLossFn(model, task);
    channel.post({ type: 'started', backend, trainExamples: n, noiseMultiplier, groups: grouping.groups.map((g) => g.name) });

    channel.post({ type: 'status', text: 'evaluating the model before fine-tuning' });
    channel.post({ type: 'evaluated', when: 'before', evaluation: await evaluation(model, task, tokenizer, request.genTokens) });
    let step = 0;
    while (step < request.steps) {
      await yieldToEvents();
      if (channel.stopRequested()) break;
      channel.post({ type: 'status', text: `private step ${step + 1} of ${request.steps}` });
      const r = await takeTrainStep({ sampler, gradients, optimizer, lossOf, maxPhysicalBatch: PAGE_SETTINGS['max-physical-batch'], accountant: { accountant, noiseMultiplier } });
      step++;
      channel.post({
        type: 'step', step,
        loss: r.indices.length > 0 ? r.lossSum / r.indices.length : Number.NaN,
        epsilon: accountant.epsilon(request.delta),
        batchSize: r.indices.length,
        stepMs: r.stepMs,
        groups: 'groups' in r.released ? r.released.groups.map((g) => ({ group: g.group, clipFraction: g.clipFraction })) : [],
      });
    }
    const stopped = step < request.steps;
    channel.post({ type: 'status', text: 'evaluating the fine-tuned model' });
    channel.post({ type: 'evaluated', when: 'after', evaluation: await evaluation(model, task, tokenizer, request.genTokens) });

    const spent = accountant.getPrivacySpent(request.delta);
    // the page fine-tunes every parameter
    const paramCount = model.params.reduce((s, p) => s + p.variable.size, 0);
    const privacy = privacyReport({
      noDp: false, epsilon: spent.epsilon, delta: request.delta, targetEpsilon: request.epsilon, accountant: 'rdp', sampleRate,
      expectedBatchSize: request.batchSize, datasetSize: n, noiseMultiplier, steps: step, sampling: 'poisson', stoppedAtBudget: false,
      accountantCaveats: spent.caveats, clippingFn: 'abadi', groupingSpec: request.grouping, grouping, tokenizer: 'byte',
      thresholds: { kind: 'fixed' }, diagnostics: 'off', releases: gradients.releases, evaluated: true,
      trained: { mode: 'all', trainedParameters: paramCount, totalParameters: paramCount, tensors: model.params.map((p) => p.name) },
    });
    const saved = await savePretrainedToBytes(model);
    const safetensors = saved.weights.buffer;
    channel.post({
      type: 'done', stopped, steps: step, epsilon: spent.epsilon, statement: privacy.statement,
      notCovered: [
        'The training loss and the per-group clip fractions on this page: exact statistics of the training batches, without noise. They stay in this page.',
        ...privacy.coverage.notCovered,
      ],
      safetensors, configJson: saved.config, weightDigest: await weightDigest(model.params),
    }, [safetensors]);
    model.dispose();
  } catch (e) {
    channel.post({ type: 'error', message: e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e) });
  }
}
