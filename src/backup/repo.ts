/** The repository: a store, a codec and the layout in format.ts. */
import { createHmac } from 'node:crypto';
import { constants as zlibConstants, createBrotliCompress, createBrotliDecompress, createDeflateRaw, createInflateRaw } from 'node:zlib';
import { PilotfishError } from '../kernel/errors.js';
import { type Codec, corrupt, type Compression } from './codec.js';
import {
  CHUNK_PREFIX,
  CONFIG_KEY,
  FORMAT_VERSION,
  SNAPSHOT_PREFIX,
  chunkKey,
  packKey,
  PACK_PREFIX,
  RETIRED_PREFIX,
  type ChunkRef,
  type FileEntry,
  type Manifest,
  type RepoConfig,
} from './format.js';
import type { Store, StoreObject } from './store/types.js';

/** The last four bytes of a pack that ends with a table of contents. */
const PACK_MAGIC = 'PFT1';
/** Bytes read from a pack's end to find its table of contents (a longer table takes a second read). */
const TOC_TAIL = 64 * 1024;
const tocName = (pack: string): string => `${PACK_PREFIX}${pack}.toc`;

/** Manifest text parsed at a time (see {@link Repository.readManifest}). */
const PARSE_BLOCK = 1024 * 1024;

/** A manifest's payload decompressed, as a stream of pieces. */
function inflated(payload: Buffer, compression: Compression): AsyncIterable<Buffer> {
  if (compression === 'none') return [payload] as unknown as AsyncIterable<Buffer>;
  if (compression === 'lz4') throw new Error('a manifest is never lz4-compressed');
  const z = compression === 'deflate' ? createInflateRaw({ chunkSize: 256 * 1024 }) : createBrotliDecompress({ chunkSize: 256 * 1024 });
  z.end(payload);
  return z;
}

/** The text of whole lines, about PARSE_BLOCK bytes at a time (a JSON line never holds a raw newline). */
async function* lineBlocks(pieces: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let held: Buffer[] = [];
  let size = 0;
  for await (const piece of pieces) {
    held.push(piece);
    size += piece.length;
    if (size < PARSE_BLOCK) continue;
    const buf = held.length === 1 ? piece : Buffer.concat(held, size);
    const nl = buf.lastIndexOf(10);
    if (nl < 0) {
      held = [buf];
      continue;
    }
    // Copy the tail: a view would keep the whole block alive.
    const tail = Buffer.from(buf.subarray(nl + 1));
    held = tail.length ? [tail] : [];
    size = tail.length;
    yield buf.toString('utf8', 0, nl);
  }
  if (size > 0) yield Buffer.concat(held, size).toString('utf8');
}

/** A manifest being read: its header now, its entries block by block as they are pulled. */
export interface OpenManifest {
  /** Everything but the entries (`entries` is empty). */
  header: Manifest;
  /**
   * The entries, about {@link PARSE_BLOCK} bytes of manifest at a time. Pull it once. A
   * truncated or unparsable manifest throws `PF_BACKUP_CORRUPT`, possibly after some blocks.
   */
  blocks: AsyncIterable<FileEntry[]>;
}

/** Entries of whole JSON lines, empty lines skipped: one JSON.parse of them as an array. */
function parseLines(text: string): FileEntry[] {
  const body = text.replace(/\n+/g, ',').replace(/^,|,$/g, '');
  return body === '' ? [] : (JSON.parse(`[${body}]`) as FileEntry[]);
}

export class Repository {
  #config: RepoConfig | undefined;

  constructor(
    readonly store: Store,
    readonly codec: Codec,
    readonly avgChunk: number,
  ) {}

  /** The repository's chunk size (fixed at creation, so dedup keeps working if the config changes). */
  get chunkSize(): number {
    return this.#config?.avgChunk ?? this.avgChunk;
  }

  /** Read the repository config, creating it on first use; refuse a key or format mismatch. */
  async open(): Promise<void> {
    const keys = this.codec.options.keys;
    const keyCheck = keys ? createHmac('sha256', keys.mac).update('pilotfish-key-check').digest('hex').slice(0, 16) : undefined;
    const wanted: RepoConfig = { version: FORMAT_VERSION, avgChunk: this.avgChunk, encrypted: keys !== undefined, ...(keyCheck ? { keyCheck } : {}) };
    let raw = await this.store.get(CONFIG_KEY);
    if (!raw) {
      await this.store.putIfAbsent(CONFIG_KEY, Buffer.from(JSON.stringify(wanted)));
      raw = await this.store.get(CONFIG_KEY);
    }
    let found: RepoConfig;
    try {
      found = JSON.parse(String(raw)) as RepoConfig;
    } catch (cause) {
      throw corrupt(`${this.store.describe} ${CONFIG_KEY}`, 'not JSON', cause);
    }
    if (found.version !== FORMAT_VERSION) {
      throw new PilotfishError('PF_BACKUP_STORE', `${this.store.describe} has backup format ${found.version}; this Pilotfish reads ${FORMAT_VERSION}`);
    }
    if (found.encrypted !== wanted.encrypted) {
      throw new PilotfishError(
        'PF_BACKUP_KEY',
        found.encrypted
          ? `${this.store.describe} is encrypted; set backup.encryption.key`
          : `${this.store.describe} is not encrypted; remove backup.encryption or use a new prefix`,
      );
    }
    if (found.keyCheck !== wanted.keyCheck) {
      throw new PilotfishError('PF_BACKUP_KEY', `${this.store.describe} was encrypted with another key; use the original key`);
    }
    this.#config = found;
  }

  /** Snapshot names, newest first. */
  async snapshotNames(): Promise<string[]> {
    const names: string[] = [];
    for await (const o of this.store.list(SNAPSHOT_PREFIX)) names.push(o.key);
    return names.sort().reverse();
  }

  /**
   * Manifests are JSON lines: a header (everything but the entries), then one entry per line.
   * Written through a streaming compressor, and read the same way: decompressed as a stream,
   * parsed in blocks of about {@link PARSE_BLOCK} bytes of whole lines (one JSON.parse each, as
   * an array), so a 100k-file manifest never exists as one buffer or string, and costs 100
   * parses, not 100,000.
   */
  async readManifest(name: string): Promise<Manifest> {
    const entries: FileEntry[] = [];
    // Pack ids repeat (a pack holds ~100 small files): one string each instead of one per reference.
    const packs = new Map<string, string>();
    const m = await this.forEachEntry(name, (e) => {
      for (const ref of e.c ?? []) {
        const pack = ref[2];
        if (pack === undefined) continue;
        const same = packs.get(pack);
        if (same === undefined) packs.set(pack, pack);
        else ref[2] = same;
      }
      entries.push(e);
    });
    m.entries = entries;
    return m;
  }

  /**
   * A manifest's entries one by one, without keeping them: what a pass over many manifests
   * (garbage collection's references) needs, in the memory of one parse block. Returns the
   * header, `entries` empty. The whole manifest is checked (GCM tag, entry count) before it
   * returns; `fn` may have seen entries of a manifest that then turns out corrupt. What `fn`
   * throws is passed on as it is.
   */
  async forEachEntry(name: string, fn: (e: FileEntry) => void): Promise<Manifest> {
    const { header, blocks } = await this.openManifest(name);
    for await (const block of blocks) for (const e of block) fn(e);
    return header;
  }

  /**
   * Open a manifest to read its entries as a stream (a restore holds one block of them at a
   * time, not 100,000). The blob is fetched and authenticated (GCM tag) first; the entries are
   * decompressed and parsed as they are pulled, and their count checked at the end.
   */
  async openManifest(name: string): Promise<OpenManifest> {
    const blob = await this.store.get(name);
    if (!blob) throw corrupt(name, 'missing');
    const { compression, payload } = this.codec.unseal(blob, name);
    const texts = lineBlocks(inflated(payload, compression));
    let header: Manifest & { entryCount?: number };
    let rest: string;
    try {
      const first = await texts.next();
      if (first.done) throw new Error('empty');
      const nl = first.value.indexOf('\n');
      header = JSON.parse(nl < 0 ? first.value : first.value.slice(0, nl)) as Manifest;
      if (header.version !== FORMAT_VERSION || !Array.isArray(header.sources)) throw new Error('bad header');
      rest = nl < 0 ? '' : first.value.slice(nl + 1);
    } catch (cause) {
      await texts.return(undefined);
      throw corrupt(name, 'not a manifest', cause);
    }
    const expected = header.entryCount;
    header.entries = [];
    async function* blocks(): AsyncGenerator<FileEntry[]> {
      let count = 0;
      let text: string | undefined = rest;
      rest = '';
      while (text !== undefined) {
        let entries: FileEntry[];
        try {
          entries = parseLines(text);
          const next = await texts.next();
          text = next.done ? undefined : next.value;
        } catch (cause) {
          throw corrupt(name, 'not a manifest', cause);
        }
        count += entries.length;
        if (entries.length > 0) yield entries;
      }
      if (count !== expected) throw corrupt(name, 'not a manifest', new Error('truncated'));
    }
    return { header, blocks: blocks() };
  }

  async writeManifest(m: Manifest): Promise<void> {
    const comp =
      this.codec.options.compression === 'deflate'
        ? createDeflateRaw({ level: 1 })
        : createBrotliCompress({ params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } });
    const parts: Buffer[] = [];
    comp.on('data', (b: Buffer) => parts.push(b));
    const ended = new Promise<void>((resolve, reject) => {
      comp.once('end', resolve);
      comp.once('error', reject);
    });
    const write = async (text: string): Promise<void> => {
      if (!comp.write(text)) await new Promise<void>((resolve) => comp.once('drain', resolve));
    };
    const { entries, ...header } = m;
    await write(`${JSON.stringify({ ...header, entryCount: entries.length })}\n`);
    const BATCH = 1000;
    for (let i = 0; i < entries.length; i += BATCH) {
      let text = '';
      for (const e of entries.slice(i, i + BATCH)) text += `${JSON.stringify(e)}\n`;
      await write(text);
    }
    comp.end();
    await ended;
    const body = Buffer.concat(parts);
    await this.store.flush?.();
    await this.store.put(m.name, await this.codec.seal(body, m.name, this.codec.options.compression === 'deflate' ? 'deflate' : 'brotli'));
  }

  /** The newest manifest that parses, skipping (and reporting) the others. */
  async latest(onSkip?: (name: string, error: unknown) => void): Promise<Manifest | undefined> {
    for (const name of await this.snapshotNames()) {
      try {
        return await this.readManifest(name);
      } catch (error) {
        if (!(error instanceof PilotfishError) || error.code !== 'PF_BACKUP_CORRUPT') throw error;
        onSkip?.(name, error);
      }
    }
    return undefined;
  }

  putPack(pack: string, body: Buffer): Promise<void> {
    return this.store.put(packKey(pack), body);
  }

  /**
   * A pack's table of contents, sealed like a chunk (named after the pack), and the trailer
   * that ends the pack: the table's length and {@link PACK_MAGIC}. It lets a backup with no
   * previous snapshot (the first, or one after a crash before its manifest) reuse the chunks
   * of packs already stored instead of uploading them again.
   */
  async packTrailer(pack: string, refs: readonly ChunkRef[]): Promise<Buffer> {
    const toc = await this.codec.seal(Buffer.from(JSON.stringify(refs.map((r) => [r[0], r[1], r[3], r[4]]))), tocName(pack));
    const end = Buffer.alloc(8);
    end.writeUInt32LE(toc.length, 0);
    end.write(PACK_MAGIC, 4, 'latin1');
    return Buffer.concat([toc, end]);
  }

  /**
   * The chunks of a pack of `size` bytes, from its table of contents; undefined for a pack
   * without one (written by an earlier version) or whose table does not open.
   */
  async packContents(pack: string, size: number): Promise<ChunkRef[] | undefined> {
    if (size < 8) return undefined;
    const tail = await this.store.getRange(packKey(pack), Math.max(0, size - TOC_TAIL), Math.min(size, TOC_TAIL));
    if (!tail || tail.length < 8 || tail.toString('latin1', tail.length - 4) !== PACK_MAGIC) return undefined;
    const tocLength = tail.readUInt32LE(tail.length - 8);
    if (tocLength + 8 > size) return undefined;
    const toc =
      tocLength + 8 <= tail.length
        ? tail.subarray(tail.length - 8 - tocLength, tail.length - 8)
        : await this.store.getRange(packKey(pack), size - 8 - tocLength, tocLength);
    try {
      const rows = JSON.parse(String(await this.codec.open(toc as Buffer, tocName(pack)))) as Array<[string, number, number, number]>;
      return rows.map(([id, plain, offset, length]) => [id, plain, pack, offset, length]);
    } catch {
      return undefined;
    }
  }

  /** A chunk's plaintext, verified against its id (a packed one by a range read). */
  async getChunk(ref: ChunkRef): Promise<Buffer> {
    const [id, , pack, offset, length] = ref;
    const blob = pack !== undefined ? await this.store.getRange(packKey(pack), offset ?? 0, length ?? 0) : await this.store.get(chunkKey(id));
    if (!blob || (pack !== undefined && blob.length !== length)) throw corrupt(id, pack !== undefined ? `missing from pack ${pack}` : 'missing chunk');
    return this.codec.openChunk(blob, id);
  }

  /** A standalone chunk's sealed blob, not yet opened (the restore workers open and verify it). */
  async getChunkBlob(id: string): Promise<Buffer> {
    const blob = await this.store.get(chunkKey(id));
    if (!blob) throw corrupt(id, 'missing chunk');
    return blob;
  }

  /** `length` bytes of a pack from `offset`: the sealed blobs a restore needs from it. */
  async getPackRange(pack: string, offset: number, length: number): Promise<Buffer> {
    const body = await this.store.getRange(packKey(pack), offset, length);
    if (!body) throw corrupt(pack, 'missing pack');
    return body;
  }

  listPacks(): AsyncIterable<StoreObject> {
    return this.store.list(PACK_PREFIX);
  }

  listRetired(): AsyncIterable<StoreObject> {
    return this.store.list(RETIRED_PREFIX);
  }

  listChunks(): AsyncIterable<StoreObject> {
    return this.store.list(CHUNK_PREFIX);
  }
}
