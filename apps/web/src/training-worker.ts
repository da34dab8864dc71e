// The Web Worker that trains, so the page stays responsive: it runs one `runTraining` per worker
// (the page starts a fresh worker for each run, which frees every tensor of the last one).
import type { PageToWorker, WorkerToPage } from './protocol';
import { runTraining } from './run-training';

let stop = false;
let started = false;

self.onmessage = (event: MessageEvent<PageToWorker>) => {
  const message = event.data;
  if (message.type === 'stop') {
    stop = true;
    return;
  }
  if (started) {
    self.postMessage({ type: 'error', message: 'this worker already ran; start a new one' } satisfies WorkerToPage);
    return;
  }
  started = true;
  void runTraining(message.request, {
    post: (m, transfer = []) => self.postMessage(m, { transfer }),
    stopRequested: () => stop,
  });
};
