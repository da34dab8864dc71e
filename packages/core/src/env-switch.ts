/**
 * A process-wide on/off switch whose default comes from an environment variable (`on` turns it on),
 * read once on first use; `set(null)` goes back to that default. For kernel options that stay off
 * until a GPU shows they pay, so that a benchmark can flip them between steps.
 *
 * @example
 * const narrow = envSwitch('CLIPWISE_MATMUL_NARROW');
 * narrow.enabled(); // false unless CLIPWISE_MATMUL_NARROW=on
 * narrow.set(true);
 */
export function envSwitch(variable: string): { set(on: boolean | null): void; enabled(): boolean } {
  let value: boolean | null = null;
  return {
    set(on) {
      value = on;
    },
    enabled() {
      value ??= (typeof process !== 'undefined' ? process.env?.[variable] : undefined) === 'on';
      return value;
    },
  };
}
