/**
 * A small pool of decode worker threads, so that reading a photo never blocks the event loop of
 * the bot or the server. Workers are started lazily, reused for later jobs, kept `unref`'d while
 * idle (an idle pool never keeps the process alive) and terminated when a job overruns its time.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ScanOptions, ScanResult } from './decode.ts';
import { QrError, reviveError } from './errors.ts';
import type { WorkerReply, WorkerRequest } from './worker.ts';

/** Settings of a {@link DecodePool}. */
export interface PoolOptions {
  /** Worker threads at most (default 1: decoding is CPU-bound and the bot has other work). */
  size?: number;
  /** Default hard time limit per job in milliseconds, counted from when a worker takes it. */
  timeoutMs?: number;
  /** Jobs allowed to wait for a worker; more are refused with QrError `busy`. */
  maxQueue?: number;
  /** V8 heap limit of each worker, in MB (pixel buffers live outside it; the image limits bound those). */
  maxHeapMb?: number;
}

export const DEFAULT_TIMEOUT_MS = 20_000;

interface Job {
  id: number;
  bytes: Uint8Array;
  options: ScanOptions;
  timeoutMs: number;
  resolve: (result: ScanResult) => void;
  reject: (error: QrError) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  timer: NodeJS.Timeout | null;
  ready: Promise<void>;
}

/**
 * The source of each worker: registers tsx in the new thread, then imports worker.ts. Doing it
 * here, rather than relying on the parent's loader, works the same whether the process was started
 * with `node --import tsx`, through bin/switchboard.js (tsx's `register()`) or by vitest.
 */
function bootstrapSource(): string {
  const worker = new URL('./worker.ts', import.meta.url).href;
  return (
    `import(${JSON.stringify(tsxApiUrl())})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); });`
  );
}

function tsxApiUrl(): string {
  // vitest's module runner has no import.meta.resolve; node (with or without tsx) has.
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('tsx/esm/api');
  const require = createRequire(import.meta.url);
  return pathToFileURL(join(dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
}

/** Runs {@link scanImage} jobs in worker threads with a queue, a time limit and crash isolation. */
export class DecodePool {
  readonly #size: number;
  readonly #timeoutMs: number;
  readonly #maxQueue: number;
  readonly #maxHeapMb: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: PoolOptions = {}) {
    this.#size = Math.max(1, options.size ?? 1);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxQueue = options.maxQueue ?? 64;
    this.#maxHeapMb = options.maxHeapMb ?? 512;
  }

  /** Scans `bytes` in a worker. Rejects with QrError (`timeout`, `busy`, `internal` or the scan's own). */
  run(bytes: Uint8Array, options: ScanOptions = {}, timeoutMs = this.#timeoutMs): Promise<ScanResult> {
    if (this.#closed) return Promise.reject(new QrError('internal', 'The QR decoder has been shut down.'));
    if (this.#queue.length >= this.#maxQueue) {
      return Promise.reject(new QrError('busy', 'Too many QR codes are being decoded right now; try again shortly.'));
    }
    return new Promise<ScanResult>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, bytes, options, timeoutMs, resolve, reject });
      this.#dispatch();
    });
  }

  /** Starts a worker now (instead of on the first job) and waits until its wasm is compiled. */
  async warm(): Promise<void> {
    const slot = this.#slots[0] ?? this.#spawn();
    await slot.ready;
  }

  /** Number of live worker threads (for tests and metrics). */
  get threads(): number {
    return this.#slots.length;
  }

  /** Rejects waiting jobs and terminates every worker. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new QrError('internal', 'The QR decoder was shut down.'));
    await Promise.all(this.#slots.splice(0).map((slot) => this.#retire(slot, new QrError('internal', 'The QR decoder was shut down.'))));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.job === null);
      if (!slot && this.#slots.length < this.#size) {
        try {
          slot = this.#spawn();
        } catch (error: unknown) {
          // E.g. exec arguments a worker may not take: fail this job, never the caller's process.
          const message = error instanceof Error ? error.message : String(error);
          this.#queue.shift()!.reject(new QrError('internal', `Could not start the QR decoder: ${message}`, { cause: error }));
          continue;
        }
      }
      if (!slot) return;
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.timer = setTimeout(() => {
        const limit = job.timeoutMs >= 1000 ? `${Math.round(job.timeoutMs / 1000)} s` : `${job.timeoutMs} ms`;
        void this.#retire(slot, new QrError('timeout', `Decoding took longer than ${limit} and was stopped.`));
        this.#dispatch();
      }, job.timeoutMs);
      // A copy the worker can own: the caller keeps its buffer, and no second copy is made in transit.
      const copy = new Uint8Array(job.bytes);
      const request: WorkerRequest = { id: job.id, bytes: copy, options: job.options };
      slot.worker.postMessage(request, [copy.buffer]);
    }
  }

  #spawn(): Slot {
    const worker = new Worker(bootstrapSource(), {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: this.#maxHeapMb },
    });
    worker.unref();
    let markReady!: () => void;
    const slot: Slot = { worker, job: null, timer: null, ready: new Promise<void>((r) => (markReady = r)) };
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'ready') return markReady();
      const job = slot.job;
      if (!job || job.id !== reply.id) return;
      this.#finish(slot);
      if (reply.type === 'result') job.resolve(reply.result);
      else job.reject(reviveError(reply.error));
      this.#dispatch();
    });
    // Without an 'error' listener a crash inside the worker would be re-thrown in this thread.
    worker.on('error', (error: Error) => {
      const oom = (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      const reason = oom
        ? new QrError('too_large', 'The image needs more memory to decode than allowed.', { cause: error })
        : new QrError('internal', `The QR decoder failed: ${error.message}`, { cause: error });
      void this.#retire(slot, reason);
      markReady();
      this.#dispatch();
    });
    worker.on('exit', (code) => {
      if (!this.#slots.includes(slot)) return;
      void this.#retire(slot, new QrError('internal', `The QR decoder stopped unexpectedly (exit code ${code}).`));
      markReady();
      this.#dispatch();
    });
    this.#slots.push(slot);
    return slot;
  }

  #finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
    slot.worker.unref();
  }

  /** Removes a worker from the pool, failing its current job (if any) with `reason`. */
  async #retire(slot: Slot, reason: QrError): Promise<void> {
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots.splice(index, 1);
    const job = slot.job;
    this.#finish(slot);
    job?.reject(reason);
    await slot.worker.terminate();
  }
}
