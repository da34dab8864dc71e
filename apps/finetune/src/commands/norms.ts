import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setupBackend, type BackendName } from '@clipwise/core';
import { formatNormTable, loadPretrained, perSampleNorms } from '@clipwise/models';
import { parseJsonText, readJsonFile } from '../json-text';

export interface NormsOptions {
  model: string;
  input: string;
  grouping?: string;
  clipNorm: number;
  json: boolean;
  backend: BackendName;
  log: (line: string) => void;
}

/**
 * `clipwise norms`: per-sample gradient norms of a Hugging Face checkpoint on a batch, per
 * parameter (and per group with --grouping), to choose clipping thresholds.
 */
export async function runNorms(o: NormsOptions): Promise<void> {
  await setupBackend(o.backend);
  let text: string;
  try {
    text = await readFile(o.input, 'utf8');
  } catch (e) {
    throw new Error(`--input ${o.input}: cannot read it (${(e as Error).message})`);
  }
  const input = parseJsonText(text, `--input ${o.input}`);
  const hfConfig = path.join(o.model, 'config.json');
  // loadPretrained's message has V8's position, which some errors lack: name the line and column first.
  if (existsSync(hfConfig)) readJsonFile(hfConfig, (m) => new Error(`--model ${o.model}: ${m}`));
  const model = await loadPretrained(o.model);
  try {
    const result = await perSampleNorms(model, input as Parameters<typeof perSampleNorms>[1], {
      grouping: o.grouping,
      clipNorm: o.clipNorm,
    });
    o.log(o.json ? JSON.stringify(result) : formatNormTable(result, { by: o.grouping ? 'group' : 'param' }));
  } finally {
    model.dispose();
  }
}
