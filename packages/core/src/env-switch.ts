/**
 * A process-wide setting whose default comes from an environment variable, parsed on first use and
 * then kept (`parse` gets the raw value, undefined where unset, and may throw a clear error for a bad
 * one); `set(value)` overrides it and `set(null)` goes back to the variable, read again. For options
 * that a GPU A/B decides or a benchmark sweeps, which a user can also set from the environment.
 *
 * @example
 * const fitUp = envSetting('CLIPWISE_POOL_FIT_UP', (v) => (v === undefined ? 1 : Number(v)));
 * fitUp.get(); // 1 unless the variable says otherwise
 * fitUp.set(4);
 */
export function envSetting<T>(variable: string, parse: (raw: string | undefined) => T): { set(value: T | null): void; get(): T } {
  let value: T | null = null;
  return {
    set(v) {
      value = v;
    },
    get() {
      // the environment is read once (a process.env lookup is a native call: hot kernels ask every launch)
      if (value === null) value = parse(typeof process !== 'undefined' ? process.env?.[variable] : undefined);
      return value;
    },
  };
}

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
  const setting = envSetting(variable, (v) => (defaultOn ? v !== 'off' : v === 'on'));
  return { set: setting.set, enabled: setting.get };
}
