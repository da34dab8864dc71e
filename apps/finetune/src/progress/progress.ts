import { AsyncLocalStorage } from 'node:async_hooks';

/** The progress of long phases (loading a checkpoint, tracing the tape, calibrating σ). */
export interface ProgressReporter {
  /** `done` of `total` units of the phase `label`; without `total`, a count of unknown end. */
  update(label: string, done: number, total?: number): void;
  /** The phase ended: clear what `update` showed. */
  end(): void;
}

const current = new AsyncLocalStorage<ProgressReporter>();
const silent: ProgressReporter = { update() {}, end() {} };

/**
 * Runs `work` with `reporter` as the progress of everything it calls (`currentProgress`), without
 * passing it through every options object; `undefined` runs it silently (`--json`, no terminal).
 */
export function withProgress<T>(reporter: ProgressReporter | undefined, work: () => Promise<T>): Promise<T> {
  return current.run(reporter ?? silent, work);
}

/** The progress reporter of the running command; silent outside `withProgress`. */
export function currentProgress(): ProgressReporter {
  return current.getStore() ?? silent;
}

/**
 * A library's `onProgress(done, total)` callback for the phase `label` of the running command:
 * updates until `done` reaches `total`, then ends the phase.
 */
export function progressCallback(label: string): (done: number, total: number) => void {
  const progress = currentProgress();
  return (done, total) => (done >= total ? progress.end() : progress.update(label, done, total));
}

/**
 * A reporter that draws one status line through `show` (`label: 41% (2,050/5,000)`, or
 * `label 7` for a count), at most every `intervalMs` (a phase can report thousands of times), and
 * clears it (`show(null)`) when the phase ends.
 */
export function lineProgress(show: (line: string | null) => void, intervalMs = 100, now: () => number = Date.now): ProgressReporter {
  let last = -Infinity;
  let shown = false;
  return {
    update(label, done, total) {
      const t = now();
      if (t - last < intervalMs) return;
      last = t;
      shown = true;
      if (total === undefined) show(`${label} ${done.toLocaleString('en')}`);
      else show(`${label}: ${total > 0 ? Math.floor((100 * done) / total) : 0}% (${done.toLocaleString('en')}/${total.toLocaleString('en')})`);
    },
    end() {
      if (shown) show(null);
      shown = false;
      last = -Infinity;
    },
  };
}

/**
 * A status line on `stream` when it is a terminal (carriage return, erase line), else undefined:
 * redirected output never gets progress.
 */
export function terminalStatusLine(stream: NodeJS.WriteStream = process.stderr): ((line: string | null) => void) | undefined {
  if (!stream.isTTY) return undefined;
  return (line) => stream.write(`\r\x1b[K${line ?? ''}`);
}
