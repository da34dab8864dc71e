import { defaultLabel, placeholder, type FlagSpec } from './flag-spec';

const cell = (s: string) => s.replace(/\|/g, '\\|');

/**
 * The README's markdown table of a command's flags, made from the same declaration as its parser
 * and `--help`: flag and placeholder, meaning, default with its unit (and the help section, when
 * the flags have sections).
 */
export function flagTable(specs: readonly FlagSpec[]): string {
  const grouped = specs.some((s) => s.group);
  const rows = specs.map((s) => {
    const flag = `\`--${s.name}${s.kind === 'bool' ? '' : ` ${placeholder(s).slice(1, -1)}`}\``;
    const unitOnly = s.unit ? `in ${s.unit}` : '';
    const cells = [flag, s.description, s.required ? 'required' : (defaultLabel(s) ?? unitOnly)];
    return `| ${(grouped ? [s.group ?? '', ...cells] : cells).map(cell).join(' | ')} |`;
  });
  const head = grouped ? ['group', 'flag', 'meaning', 'default'] : ['flag', 'meaning', 'default'];
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows].join('\n');
}

/** Markers around a generated block in a README: `<!-- flags:NAME -->` … `<!-- /flags:NAME -->`. */
function blockPattern(name: string): RegExp {
  return new RegExp(`(<!-- flags:${name} -->\\n)([\\s\\S]*?)(\\n<!-- /flags:${name} -->)`);
}

/** The generated block `name` of a README's text, or undefined when its markers are missing. */
export function readBlock(text: string, name: string): string | undefined {
  return blockPattern(name).exec(text)?.[2];
}

/** The README's text with block `name` replaced by `content` (the markers must be there). */
export function writeBlock(text: string, name: string, content: string): string {
  if (readBlock(text, name) === undefined) throw new Error(`the README has no <!-- flags:${name} --> … <!-- /flags:${name} --> markers`);
  return text.replace(blockPattern(name), (_, open: string, __: string, close: string) => `${open}${content}${close}`);
}
