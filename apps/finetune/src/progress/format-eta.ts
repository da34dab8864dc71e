/**
 * A remaining time as `m:ss`, rounded to the second first (so 179.6 s is `3:00`, never `2:60`).
 *
 * @example
 * formatEta(179.6); // '3:00'
 */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
