/**
 * A restore worker thread: decrypts, decompresses, verifies and writes the chunks of the
 * objects the main thread fetched (./place.ts), so the main thread only talks to the store.
 * Started by ./pool.ts; bundled as dist/cli/backup-worker.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PilotfishError } from '../../kernel/errors.js';
import { type Codec } from '../codec.js';
import { writePlaces } from './place.js';
import { codecOf, type Reply, type Request, type WorkerInit } from './protocol.js';

const codec: Codec = codecOf(workerData as WorkerInit);

const port = parentPort;
if (!port) throw new Error('restore-worker.ts runs as a worker thread');

port.on('message', (req: Request) => {
  let reply: Reply;
  try {
    reply = { seq: req.seq, bytes: writePlaces(codec, req.task) };
  } catch (error) {
    const e = error as Error & { code?: unknown };
    reply = {
      seq: req.seq,
      error: { message: e.message ?? String(error), code: typeof e.code === 'string' ? e.code : undefined, pilotfish: error instanceof PilotfishError },
    };
  }
  port.postMessage(reply);
});

port.postMessage({ ready: true });
