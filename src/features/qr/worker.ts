/**
 * Entry point of a decode worker thread (started by pool.ts through a tsx bootstrap). It owns one
 * ZXing wasm instance and handles one job at a time: the pool never sends a second job before the
 * first is answered, and replaces the whole thread when a job overruns its time.
 */
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { loadZxing } from './detectors.ts';
import { scanImage, type ScanOptions, type ScanResult } from './decode.ts';
import { serializeError, type SerializedQrError } from './errors.ts';

/** What the pool posts to a worker. */
export interface WorkerRequest {
  id: number;
  bytes: Uint8Array;
  options: ScanOptions;
}

/** What a worker posts back: once `ready` after start, then one reply per request. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: ScanResult }
  | { type: 'error'; id: number; error: SerializedQrError };

const port = parentPort;
if (!port) throw new Error('src/features/qr/worker.ts must run in a worker thread (see pool.ts)');

// libvips' operation cache keeps up to 50 MB of decoded images around for reuse; each job here
// decodes a different photo, so the cache only holds memory.
sharp.cache(false);

port.on('message', (request: WorkerRequest) => {
  void handle(request);
});

async function handle({ id, bytes, options }: WorkerRequest): Promise<void> {
  let reply: WorkerReply;
  try {
    reply = { type: 'result', id, result: await scanImage(bytes, options) };
  } catch (error: unknown) {
    reply = { type: 'error', id, error: serializeError(error) };
  }
  port!.postMessage(reply);
}

// Compile the wasm module before the first photo arrives.
loadZxing().then(
  () => port.postMessage({ type: 'ready' } satisfies WorkerReply),
  (error: unknown) => {
    throw new Error('could not load the ZXing wasm module', { cause: error });
  },
);
