// The files the page trains with, shipped in apps/finetune/assets (PAGE_MODEL, DEMO_DATA of
// @clipwise/finetune/browser): Vite copies them into the build and these are their URLs. The paths
// must be literal for Vite to find them.
import modelConfigUrl from '@clipwise/finetune/assets/pretrained-shakespeare-byte/config.json?url';
import modelWeightsUrl from '@clipwise/finetune/assets/pretrained-shakespeare-byte/model.safetensors?url';
import sampleTrainUrl from '@clipwise/finetune/assets/e2e-sample/train.csv?url';
import sampleTestUrl from '@clipwise/finetune/assets/e2e-sample/test.csv?url';
import type { TrainingData, TrainRequest } from './protocol';

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  return response;
}

/** The shipped tiny GPT-2 (pre-trained on public Shakespeare text, byte tokenizer). */
export async function fetchShippedModel(): Promise<TrainRequest['model']> {
  const [config, weights] = await Promise.all([fetchOk(modelConfigUrl), fetchOk(modelWeightsUrl)]);
  return { configJson: await config.text(), weights: await weights.arrayBuffer() };
}

/** The shipped E2E sample: 640 training pairs and the test pairs. */
export async function fetchShippedSample(): Promise<TrainingData> {
  const [train, test] = await Promise.all([fetchOk(sampleTrainUrl), fetchOk(sampleTestUrl)]);
  return { kind: 'sample', trainCsv: await train.text(), testCsv: await test.text() };
}
