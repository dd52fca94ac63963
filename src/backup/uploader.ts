/**
 * Storing chunks on the way in: each chunk the repository lacks is sealed (compressed,
 * encrypted) and appended to an open pack of about 4 MiB; a full pack gets its table of
 * contents and is uploaded in the background. Memory is bounded: chunks read and not yet
 * sealed, and pack buffers (from when they are made until their upload ends), together.
 *
 *   add(chunk):  known? → reuse its reference
 *                else seal (inline when small) → append to the open pack → pack full? → upload
 *   settle():    wait for the sealing, upload the last pack, wait for the uploads
 *
 * Used by the backup (./backup.ts, ./read-file.ts) and by the repack of garbage collection
 * (./retention.ts, which appends chunks still sealed).
 */
import { randomBytes } from 'node:crypto';
import { PilotfishError } from '../kernel/errors.js';
import { chunkStream, type ChunkParams } from './chunker.js';
import type { ChunkRef } from './format.js';
import { Semaphore, TaskSet } from './limit.js';
import type { Progress } from './progress.js';
import type { Repository } from './repo.js';

/**
 * Every chunk goes into a pack of about this many sealed bytes (a pack is flushed once it
 * reaches it, so it never exceeds it by more than one sealed chunk).
 */
const PACK_SIZE = 4 * 1024 * 1024;
/** Room left in a pack buffer for its table of contents (~50 bytes a chunk, compressed). */
const TRAILER_ROOM = 64 * 1024;
/** Chunks smaller than this are sealed inline (a thread-pool round trip costs more than the work). */
export const SEAL_INLINE = 64 * 1024;

/** A pack being filled: sealed blobs are copied into one buffer (no parts list, no concatenation). */
interface OpenPack {
  id: string;
  buf: Buffer;
  size: number;
  /** Its chunks, for its table of contents. */
  refs: ChunkRef[];
}

export class Uploader {
  /** Chunks the repository has: their reference (a packed one carries its location), or null when only the id is known. */
  readonly #known: Map<string, ChunkRef | null>;
  readonly #tasks = new TaskSet();
  readonly #slots: Semaphore;
  /** Bytes of chunks read but not yet stored: what bounds memory. */
  readonly #bytes: Semaphore;
  #pack: OpenPack | undefined;
  /** A pack being made (waiting for its bytes): one at a time. */
  #opening: Promise<void> | undefined;
  /**
   * Pack buffers whose upload finished, for the next packs: a pack buffer lives long enough to
   * reach V8's old generation, where a dead one would wait for a full GC; reused, the pack
   * buffers alive are only those in flight.
   */
  readonly #spare: Buffer[] = [];
  newChunks = 0;
  reusedChunks = 0;
  uploadedBytes = 0;

  /**
   * `maxChunk`: the largest chunk the repository's chunker makes, which sizes the pack
   * buffers. Required: a default once left the repack with buffers too small for big chunks.
   */
  constructor(
    readonly repo: Repository,
    concurrency: number,
    known: Map<string, ChunkRef | null>,
    readonly maxChunk: number,
    readonly progress?: Progress,
  ) {
    this.#known = known;
    this.#slots = new Semaphore(concurrency);
    this.#bytes = new Semaphore(Math.max(32 * 1024 * 1024, concurrency * 2 * 1024 * 1024));
  }

  /**
   * Store a chunk unless the repository has it. Returns its reference at once: a chunk sealed
   * in the background gets its pack, offset and length when it is appended to a pack, before
   * {@link settle} returns (the manifest is written only after that).
   */
  async add(plain: Buffer): Promise<ChunkRef> {
    this.#tasks.check();
    const id = this.repo.codec.id(plain);
    const have = this.#known.get(id);
    if (have !== undefined) {
      this.reusedChunks++;
      this.progress?.advance(plain.length);
      return have ?? [id, plain.length];
    }
    const ref: ChunkRef = [id, plain.length];
    this.#known.set(id, ref);
    this.newChunks++;
    if (plain.length < SEAL_INLINE) {
      await this.#append(ref, await this.repo.codec.seal(plain, id));
      this.progress?.advance(plain.length);
      return ref;
    }
    await this.#bytes.take(plain.length);
    await this.#slots.take();
    this.#tasks.add(
      (async () => {
        let blob: Buffer;
        try {
          blob = await this.repo.codec.seal(plain, id);
        } finally {
          // Given back before appending: a flush below waits for a slot of its own.
          this.#slots.give();
          this.#bytes.give(plain.length);
        }
        await this.#append(ref, blob);
        this.progress?.advance(plain.length);
      })(),
    );
    return ref;
  }

  /** A chunk already sealed (garbage collection moving it to a new pack): appended as it is. */
  async addSealed(id: string, size: number, blob: Buffer): Promise<ChunkRef> {
    this.#tasks.check();
    const ref: ChunkRef = [id, size];
    await this.#append(ref, blob);
    return ref;
  }

  /** Copy a sealed blob into the open pack and complete its reference; upload the pack once it is full. */
  async #append(ref: ChunkRef, blob: Buffer): Promise<void> {
    const pack = this.#pack ?? (await this.#openPack());
    if (pack.size + blob.length > pack.buf.length) throw new PilotfishError('PF_INTERNAL', `a sealed chunk of ${blob.length} bytes does not fit its pack`);
    (ref as unknown as Array<string | number>).push(pack.id, pack.size, blob.length);
    pack.refs.push(ref);
    blob.copy(pack.buf, pack.size);
    pack.size += blob.length;
    if (pack.size >= PACK_SIZE) await this.#flushPack();
  }

  /**
   * The open pack, made once its buffer's bytes are granted: a pack buffer counts from the
   * moment it is made, not from its flush. Counted at the flush, every runner that found the
   * open pack full made a new one meanwhile: 16 buffers of 8 MiB, 150 MiB at the peak of a
   * 100,000-file backup once small files were read without waiting.
   */
  async #openPack(): Promise<OpenPack> {
    while (!this.#pack) {
      this.#opening ??= (async () => {
        const size = PACK_SIZE + this.maxChunk + TRAILER_ROOM;
        await this.#bytes.take(size);
        this.#pack = { id: randomBytes(16).toString('hex'), buf: this.#spare.pop() ?? Buffer.allocUnsafe(size), size: 0, refs: [] };
      })().finally(() => (this.#opening = undefined));
      await this.#opening;
    }
    return this.#pack;
  }

  async #flushPack(): Promise<void> {
    const pack = this.#pack;
    if (!pack) return;
    this.#pack = undefined;
    await this.#slots.take();
    this.#tasks.add(
      (async () => {
        try {
          const trailer = await this.repo.packTrailer(pack.id, pack.refs);
          pack.refs = [];
          let body: Buffer;
          if (pack.size + trailer.length <= pack.buf.length) {
            trailer.copy(pack.buf, pack.size);
            body = pack.buf.subarray(0, pack.size + trailer.length);
          } else body = Buffer.concat([pack.buf.subarray(0, pack.size), trailer]); // a pack of very many tiny chunks
          await this.repo.putPack(pack.id, body);
          this.uploadedBytes += body.length;
        } finally {
          this.#slots.give();
          this.#spare.push(pack.buf);
          this.#bytes.give(pack.buf.length);
        }
      })(),
    );
  }

  /** Chunk a stream and store its chunks. */
  async addStream(source: AsyncIterable<Uint8Array>, params: ChunkParams): Promise<{ refs: ChunkRef[]; size: number }> {
    const refs: ChunkRef[] = [];
    let size = 0;
    for await (const chunk of chunkStream(source, params)) {
      refs.push(await this.add(chunk));
      size += chunk.length;
    }
    return { refs, size };
  }

  async settle(): Promise<void> {
    // The sealing tasks first: the last of them may still fill the open pack.
    await this.#tasks.settle();
    await this.#flushPack();
    await this.#tasks.settle();
  }
}
