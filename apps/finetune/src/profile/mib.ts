/** Bytes as MiB with two decimals for tables ('-' when absent; no '-0.00'). */
export function mib(bytes: number | null | undefined): string {
  if (bytes == null) return '-';
  return (bytes / 2 ** 20).toFixed(2).replace(/^-(0\.00)$/, '$1');
}

/** Bytes as KiB with one decimal for tables ('-' when absent). */
export function kib(bytes: number | null | undefined): string {
  if (bytes == null) return '-';
  return (bytes / 2 ** 10).toFixed(1);
}
