import { withBackendMethod } from './backend-patch';

/**
 * Wall time during which at least one of some overlapping waits was pending (the union of their
 * intervals): two reads awaited together count once. `now` is the clock (ms).
 *
 * @example
 * const w = new WaitClock(() => performance.now());
 * const end = w.begin(); await read; end();
 * w.ms; // time spent waiting
 */
export class WaitClock {
  private pending = 0;
  private since = 0;
  private total = 0;

  constructor(private readonly now: () => number) {}

  /** Marks a wait as started; call the returned function once when it ends. */
  begin(): () => void {
    if (this.pending++ === 0) this.since = this.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.pending === 0) this.total += this.now() - this.since;
    };
  }

  /** Waited ms so far (a wait still pending counts up to now). */
  get ms(): number {
    return this.total + (this.pending > 0 ? this.now() - this.since : 0);
  }
}

/**
 * Runs `fn` and measures how long it waited for the device: the wall time during which a read from
 * the backend (`tensor.data()`, what every wait for a GPU result goes through) was pending, overlaps
 * counted once. The rest of its wall time is the host's: JS, TF.js, and on webgpu Dawn's encoding and
 * submits. On cpu and wasm a read is immediate and the whole time is the host's.
 *
 * @example
 * const { result, waitMs } = await timeDeviceWaits(() => step());
 */
export async function timeDeviceWaits<T>(fn: () => Promise<T>): Promise<{ result: T; waitMs: number }> {
  const clock = new WaitClock(() => performance.now());
  const result = await withBackendMethod(
    'read',
    (read) =>
      function (this: unknown, ...args: never[]) {
        const end = clock.begin();
        return (read.apply(this, args) as Promise<unknown>).finally(end);
      },
    fn,
  );
  return { result, waitMs: clock.ms };
}
