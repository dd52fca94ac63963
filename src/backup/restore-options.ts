/** How a restore runs: read by restore.ts, which drives it, and by the files it hands the data to. */
import type { Progress } from './progress.js';

export interface RestoreOptions {
  concurrency: number;
  progress?: Progress | undefined;
  signal?: AbortSignal | undefined;
  /** Told how long each phase took (debug logging). */
  trace?: ((phase: string, ms: number) => void) | undefined;
  /** Worker threads that verify and write chunks (default: 2–4 by cores); 0 runs that inline. */
  threads?: number | undefined;
  /** Chunks fetched or being fetched and not yet written, at most (default: restore-fetch.ts's MAX_PENDING_CHUNKS). */
  maxPendingChunks?: number | undefined;
}
