/** The repository: a store, a codec and the layout in format.ts. */
import { createHmac } from 'node:crypto';
import { constants as zlibConstants, createBrotliCompress, createDeflateRaw } from 'node:zlib';
import { PilotfishError } from '../core/errors.js';
import { Codec, corrupt } from './codec.js';
import {
  CHUNK_PREFIX,
  CONFIG_KEY,
  FORMAT_VERSION,
  SNAPSHOT_PREFIX,
  chunkKey,
  packKey,
  PACK_PREFIX,
  type ChunkRef,
  type FileEntry,
  type Manifest,
  type RepoConfig,
} from './format.js';
import type { Store, StoreObject } from './store/types.js';

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
   * Written through a streaming compressor and parsed line by line, so a 100k-file manifest
   * never exists as one big string.
   */
  async readManifest(name: string): Promise<Manifest> {
    const blob = await this.store.get(name);
    if (!blob) throw corrupt(name, 'missing');
    const plain = await this.codec.open(blob, name);
    let m: Manifest;
    try {
      let at = plain.indexOf(10);
      if (at < 0) at = plain.length;
      m = JSON.parse(plain.toString('utf8', 0, at)) as Manifest;
      if (m.version !== FORMAT_VERSION || !Array.isArray(m.sources)) throw new Error('bad header');
      const entries: FileEntry[] = [];
      while (at < plain.length) {
        let next = plain.indexOf(10, at + 1);
        if (next < 0) next = plain.length;
        if (next > at + 1) entries.push(JSON.parse(plain.toString('utf8', at + 1, next)) as FileEntry);
        at = next;
      }
      if (entries.length !== (m as unknown as { entryCount: number }).entryCount) throw new Error('truncated');
      m.entries = entries;
    } catch (cause) {
      throw corrupt(name, 'not a manifest', cause);
    }
    return m;
  }

  async writeManifest(m: Manifest): Promise<void> {
    const comp = this.codec.options.compression === 'deflate' ? createDeflateRaw({ level: 1 }) : createBrotliCompress({ params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } });
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

  async putChunk(id: string, plain: Buffer): Promise<number> {
    const key = chunkKey(id);
    const blob = await this.codec.seal(plain, id);
    await this.store.put(key, blob);
    return blob.length;
  }

  putPack(pack: string, body: Buffer): Promise<void> {
    return this.store.put(packKey(pack), body);
  }

  /** A chunk of a pack fetched whole: verified like any other. */
  openPacked(packBody: Buffer, ref: ChunkRef): Promise<Buffer> {
    const [id, , , offset = 0, length = 0] = ref;
    return this.codec.openChunk(packBody.subarray(offset, offset + length), id);
  }

  hasChunk(id: string): Promise<boolean> {
    return this.store.has(chunkKey(id));
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

  async getPack(pack: string): Promise<Buffer> {
    const body = await this.store.get(packKey(pack));
    if (!body) throw corrupt(pack, 'missing pack');
    return body;
  }

  listPacks(): AsyncIterable<StoreObject> {
    return this.store.list(PACK_PREFIX);
  }

  listChunks(): AsyncIterable<StoreObject> {
    return this.store.list(CHUNK_PREFIX);
  }
}
