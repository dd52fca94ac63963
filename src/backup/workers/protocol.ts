/** What the main thread and the restore workers send each other. */
import { Codec, type Compression } from '../codec.js';
import type { PlaceTask } from './place.js';

/** A worker's codec: the repository's compression and keys (copied into the worker). */
export interface WorkerInit {
  compression: Compression;
  level: number;
  keys?: { enc: Uint8Array; mac: Uint8Array } | undefined;
}

export interface Request {
  seq: number;
  task: PlaceTask;
}

export type Reply =
  { seq: number; bytes: number; error?: undefined } | { seq: number; error: { message: string; code: string | undefined; pilotfish: boolean } };

export function initOf(codec: Codec): WorkerInit {
  const { compression, level, keys } = codec.options;
  return { compression, level, keys: keys ? { enc: keys.enc, mac: keys.mac } : undefined };
}

export function codecOf(init: WorkerInit): Codec {
  const keys = init.keys ? { enc: Buffer.from(init.keys.enc), mac: Buffer.from(init.keys.mac) } : undefined;
  return new Codec({ compression: init.compression, level: init.level, keys });
}
