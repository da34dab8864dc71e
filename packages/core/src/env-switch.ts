/**
 * A process-wide on/off switch whose default comes from an environment variable, read once on first
 * use; `set(null)` goes back to that default. Off by default, the variable's `on` turns it on; with
 * `defaultOn`, on by default and `off` turns it off. For kernel options that a GPU A/B decides, so
 * that a benchmark can flip them between steps and a user can turn one back.
 *
 * @example
 * const narrow = envSwitch('CLIPWISE_MATMUL_NARROW', true);
 * narrow.enabled(); // true unless CLIPWISE_MATMUL_NARROW=off
 * narrow.set(false);
 */
export function envSwitch(variable: string, defaultOn = false): { set(on: boolean | null): void; enabled(): boolean } {
  let value: boolean | null = null;
  return {
    set(on) {
      value = on;
    },
    enabled() {
      // the environment is read once (a process.env lookup is a native call: hot kernels ask every launch)
      if (value === null) {
        const v = typeof process !== 'undefined' ? process.env?.[variable] : undefined;
        value = defaultOn ? v !== 'off' : v === 'on';
      }
      return value;
    },
  };
}
