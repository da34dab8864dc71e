import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describeJsonSyntaxError } from '../json-text';
import { UsageError } from '../usage-error';

/** True for a `.yaml` / `.yml` file name; every other `--config` file is read as JSON. */
function isYamlFile(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/**
 * Reads a `clipwise train --config` file: a YAML 1.2 (`.yaml`, `.yml`) or JSON mapping whose keys are
 * the flag names (plus "model-config"). Only the syntax is checked here; the keys and values are
 * checked by `explicitSettings`, which names the bad key. Duplicate YAML keys are an error (the
 * second would silently win otherwise).
 *
 * @example
 * ```ts
 * // run.yaml:
 * //   model: gpt2-tiny
 * //   epsilon: 8
 * //   model-config: {n_embd: 32}
 * readConfigFile('run.yaml'); // { model: 'gpt2-tiny', epsilon: 8, 'model-config': { n_embd: 32 } }
 * ```
 */
export function readConfigFile(file: string): Record<string, unknown> {
  const yaml = isYamlFile(file);
  const format = yaml ? 'YAML' : 'JSON';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--config ${file}: cannot read it (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = yaml ? parseYaml(text, { uniqueKeys: true, prettyErrors: true }) : JSON.parse(text);
  } catch (e) {
    // yaml's first line names the problem and its line and column; the rest is a code frame.
    const reason = yaml ? (e as Error).message.split('\n')[0]!.replace(/:$/, '') : describeJsonSyntaxError(text, e);
    throw new UsageError(`--config ${file}: cannot parse it as ${format} (${reason})`);
  }
  if (raw === null || raw === undefined || typeof raw !== 'object' || Array.isArray(raw)) {
    const example = yaml ? '"epsilon: 8" on its own line' : '{"epsilon": 8}';
    throw new UsageError(`--config ${file}: expected a ${format} mapping of flag names to values, e.g. ${example}; got ${raw == null ? 'nothing' : Array.isArray(raw) ? 'a list' : typeof raw}`);
  }
  return raw as Record<string, unknown>;
}
