// The page: reads the form and the data, starts a training worker, and shows what it reports.
import { formatEpsilon, formatLoss, formatPercent, formatSmall } from '@clipwise/finetune/browser';
import { byId, readSettings } from './page-form';
import type { Evaluation, TrainingData, WorkerToPage } from './protocol';
import { fetchShippedModel, fetchShippedSample } from './shipped-assets';
import { StepChart } from './step-chart';

let data: TrainingData | null = null; // null: the shipped sample, fetched when training starts
let worker: Worker | null = null;
let charts: { loss: StepChart; epsilon: StepChart; clip: StepChart } | null = null;
let downloads: { weights: Blob; config: Blob } | null = null;

const status = (text: string) => (byId('status').textContent = text);
const showError = (text: string) => (byId('error').textContent = text);

function setRunning(running: boolean): void {
  byId<HTMLButtonElement>('train').disabled = running;
  byId<HTMLButtonElement>('stop').disabled = !running;
}

function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

function showEvaluation(when: 'before' | 'after', e: Evaluation): void {
  byId(`${when}-loss`).textContent = `${formatLoss(e.loss)} (perplexity ${e.perplexity.toFixed(2)})`;
  byId(`${when}-text`).textContent = e.generated;
  byId('prompt').textContent = e.prompt;
}

function startCharts(groups: readonly string[], delta: number): void {
  for (const id of ['loss-chart', 'epsilon-chart', 'clip-chart']) byId(id).replaceChildren();
  charts = {
    loss: new StepChart(byId('loss-chart'), 'training loss (not private)', ['loss'], { yLabel: 'loss (nats per byte)', format: formatLoss }),
    epsilon: new StepChart(byId('epsilon-chart'), 'privacy spent (ε) after each step', ['ε'], { yLabel: `ε at δ = ${formatSmall(delta)}`, format: formatEpsilon }),
    clip: new StepChart(byId('clip-chart'), 'share of samples clipped, per group (not private)', groups, {
      yLabel: 'clipped', format: formatPercent, tickFormat: formatPercent, yRange: [0, 1],
    }),
  };
}

function onMessage(m: WorkerToPage, delta: number): void {
  switch (m.type) {
    case 'status':
      return void status(m.text);
    case 'started':
      byId('backend-value').textContent = m.backend;
      byId('sigma-value').textContent = m.noiseMultiplier.toPrecision(4);
      return startCharts(m.groups, delta);
    case 'evaluated':
      return showEvaluation(m.when, m.evaluation);
    case 'step':
      byId('step-value').textContent = String(m.step);
      byId('epsilon-value').textContent = formatEpsilon(m.epsilon);
      byId('loss-value').textContent = Number.isFinite(m.loss) ? formatLoss(m.loss) : '– (empty batch)';
      charts?.loss.add(m.step, [m.loss]);
      charts?.epsilon.add(m.step, [m.epsilon]);
      charts?.clip.add(m.step, m.groups.map((g) => g.clipFraction));
      return;
    case 'done': {
      byId('privacy-statement').textContent = m.statement;
      const list = document.createElement('ul');
      for (const line of m.notCovered) list.appendChild(document.createElement('li')).textContent = line;
      byId('not-covered').replaceChildren(Object.assign(document.createElement('p'), { textContent: 'Not covered by the guarantee:' }), list);
      downloads = { weights: new Blob([m.safetensors]), config: new Blob([m.configJson], { type: 'application/json' }) };
      byId<HTMLButtonElement>('download').disabled = false;
      byId('download').dataset.weightDigest = JSON.stringify(m.weightDigest); // to check a download against
      byId<HTMLButtonElement>('download-config').disabled = false;
      status(`${m.stopped ? `Stopped after ${m.steps} steps` : `Done: ${m.steps} private steps`}, ε = ${formatEpsilon(m.epsilon)}.`);
      return setRunning(false);
    }
    case 'error':
      showError(m.message);
      status('Failed.');
      return setRunning(false);
  }
}

async function train(): Promise<void> {
  showError('');
  setRunning(true);
  byId<HTMLButtonElement>('download').disabled = true;
  byId<HTMLButtonElement>('download-config').disabled = true;
  try {
    const settings = readSettings();
    status('loading the model and the data');
    const [model, trainingData] = await Promise.all([fetchShippedModel(), data ?? fetchShippedSample()]);
    worker?.terminate(); // a fresh worker per run: the last run's tensors go with the old one
    worker = new Worker(new URL('./training-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<WorkerToPage>) => onMessage(event.data, settings.delta);
    worker.onerror = (event) => {
      showError(`the training worker failed: ${event.message}`);
      setRunning(false);
    };
    worker.postMessage({ type: 'train', request: { ...settings, data: trainingData, model } }, [model.weights]);
  } catch (e) {
    showError((e as Error).message);
    status('Failed.');
    setRunning(false);
  }
}

async function useFile(file: File): Promise<void> {
  data = { kind: 'file', name: file.name, text: await file.text() };
  byId('data-name').textContent = `${file.name} (${file.size.toLocaleString()} bytes; the last 10% held out for evaluation)`;
}

byId('train').addEventListener('click', () => void train());
byId('stop').addEventListener('click', () => {
  worker?.postMessage({ type: 'stop' });
  byId<HTMLButtonElement>('stop').disabled = true;
  status('stopping after this step');
});
byId('download').addEventListener('click', () => downloads && download(downloads.weights, 'model.safetensors'));
byId('download-config').addEventListener('click', () => downloads && download(downloads.config, 'config.json'));
byId('use-sample').addEventListener('click', () => {
  data = null;
  byId('data-name').textContent = 'the shipped E2E sample (640 training pairs; evaluation on its test pairs)';
});
byId<HTMLInputElement>('file').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) void useFile(file);
});
const drop = byId('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file) void useFile(file);
});
