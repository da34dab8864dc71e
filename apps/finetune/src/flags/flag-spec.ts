import { UsageError } from '../usage-error';

/** A number flag's own range check, for ranges the named kinds do not cover. */
export interface NumberRange {
  readonly ok: (x: number) => boolean;
  /** What the message says the value must be: 'an integer ≥ 2'. */
  readonly expected: string;
}

/**
 * What a flag's value may be. Named kinds: `string` (non-empty), `int` (integer ≥ 0), `posint`
 * (integer > 0), `pos` (> 0), `prob` (in (0, 1)), `nonneg` (≥ 0), `bool` (a switch, no value), `json`
 * (a JSON object, given as text on the command line); a list is the allowed words; a `NumberRange`
 * is any other numeric range.
 */
export type FlagKind = 'string' | 'int' | 'posint' | 'pos' | 'prob' | 'nonneg' | 'bool' | 'json' | readonly string[] | NumberRange;

/**
 * One command-line flag, declared once: the command's parser, its `--help`, the train config
 * file's keys and the README's flag tables are all made from these.
 */
export interface FlagSpec {
  /** The flag without its dashes; also the key in a `--config` file: 'batch-size'. */
  readonly name: string;
  readonly kind: FlagKind;
  /** The value's placeholder in help: `--batch-size <B>`. Word lists show as `<sgd|adam|adamw>`. */
  readonly value?: string;
  /** One line: what the flag does. */
  readonly description: string;
  /** The value used when the flag is absent (and shown in help). */
  readonly default?: string | number | boolean;
  /** Shown as the default when it depends on other flags or is not a plain value ('all', 'gpt2-tiny for text'). */
  readonly defaultText?: string;
  /** The value's unit, shown after the default: 'examples', 'tokens'. */
  readonly unit?: string;
  /** Help section of a command with many flags: 'data', 'privacy', ... */
  readonly group?: string;
  /** The command cannot run without it (checked by `resolveFlags`). */
  readonly required?: boolean;
}

const NAMED_RANGES: Record<string, NumberRange> = {
  int: { ok: (v) => Number.isInteger(v) && v >= 0, expected: 'an integer ≥ 0' },
  posint: { ok: (v) => Number.isInteger(v) && v > 0, expected: 'a positive integer' },
  pos: { ok: (v) => v > 0, expected: 'a number > 0' },
  prob: { ok: (v) => v > 0 && v < 1, expected: 'a number in (0, 1)' },
  nonneg: { ok: (v) => v >= 0, expected: 'a number ≥ 0' },
};

/** The placeholder of a flag that takes a value: `<B>`, `<sgd|adam|adamw>`; '' for a switch. */
export function placeholder(spec: FlagSpec): string {
  if (spec.kind === 'bool') return '';
  if (Array.isArray(spec.kind) && spec.value === undefined) return `<${(spec.kind as readonly string[]).join('|')}>`;
  return `<${spec.value ?? 'VALUE'}>`;
}

/** The default as help and the README show it: '32 examples', 'all'; undefined when there is none. */
export function defaultLabel(spec: FlagSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const d = spec.default;
  if (d === undefined || spec.kind === 'bool') return undefined;
  const text = typeof d === 'number' && d !== 0 && Math.abs(d) < 1e-3 ? d.toExponential() : String(d);
  if (!spec.unit) return text;
  return `${text} ${d === 1 ? spec.unit.replace(/s$/, '') : spec.unit}`;
}

/** The help line of a flag: its description, then its default with the unit, or the unit alone. */
export function helpText(spec: FlagSpec): string {
  if (spec.required) return `${spec.description} (required)`;
  const d = defaultLabel(spec);
  if (d !== undefined) return `${spec.description} (default: ${d})`;
  return spec.unit ? `${spec.description} (in ${spec.unit})` : spec.description;
}

/**
 * Checks one value of `spec` from the command line (a string, or true for a switch) or a config
 * file (any YAML/JSON value) and returns it typed; a bad value is a UsageError naming the flag,
 * what it must be and, from a file, which file (`source`, e.g. ' (in run.yaml)').
 */
export function parseFlagValue(spec: FlagSpec, raw: unknown, source = ''): unknown {
  const { name, kind } = spec;
  const shown = typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw);
  const bad = (what: string) => new UsageError(`--${name} must be ${what}, got ${shown}${source}`);
  if (kind === 'bool') {
    if (typeof raw !== 'boolean') throw bad('true or false');
    return raw;
  }
  if (Array.isArray(kind)) {
    if (typeof raw !== 'string' || !kind.includes(raw)) throw bad(`one of ${kind.join(', ')}`);
    return raw;
  }
  if (kind === 'string') {
    if (typeof raw !== 'string' || raw === '') throw bad('a non-empty string');
    return raw;
  }
  if (kind === 'json') {
    let v = raw;
    if (typeof raw === 'string') {
      try {
        v = JSON.parse(raw);
      } catch {
        throw bad(`a JSON object, e.g. '{"n_layer":8}'`);
      }
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(`a JSON object, e.g. '{"n_layer":8}'`);
    return v;
  }
  const range = typeof kind === 'string' ? NAMED_RANGES[kind]! : (kind as NumberRange);
  const x = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(x) || !range.ok(x)) throw bad(range.expected);
  return x;
}

/**
 * The flags of `specs` from parsed command-line values (keyed by flag name): each given one checked,
 * each absent one its default (or left out when it has none); a missing required one is a UsageError.
 */
export function resolveFlags(specs: readonly FlagSpec[], given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const v = given[spec.name];
    if (v !== undefined) out[spec.name] = parseFlagValue(spec, v);
    else if (spec.default !== undefined) out[spec.name] = spec.default;
    else if (spec.required) throw new UsageError(`--${spec.name} ${spec.value ?? 'VALUE'} is required: ${spec.description}`);
  }
  return out;
}

/** Levenshtein distance, for "did you mean" on config keys (the CLI library suggests flags itself). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The closest of `names` to a mistyped `word` (at most a third of its letters off), or undefined. */
export function closestName(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const name of names) {
    const d = editDistance(word, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}
