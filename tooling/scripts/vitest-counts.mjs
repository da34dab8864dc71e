// Counts of a vitest summary line ("      Tests  12 passed | 1 failed | 2 skipped (15)"), or null.
export function vitestCounts(line) {
  const m = /\bTests\s+(.*)\(\d+\)\s*$/.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
  if (!m) return null;
  const n = (k) => Number(new RegExp(`(\\d+) ${k}`).exec(m[1])?.[1] ?? 0);
  return { passed: n('passed'), failed: n('failed'), skipped: n('skipped') };
}
