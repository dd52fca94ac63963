/**
 * A repository in a local directory (the embedded default). Writes go to a temporary file,
 * then are renamed into place, so a crash never leaves a partial object under its name.
 * Chunks are made durable in one syncfs before a manifest is written; the others are fsynced. Conditional writes (for the lease) hold a short mkdir mutex beside the object.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { PilotfishError } from '../../kernel/errors.js';
import { CHUNK_PREFIX, PACK_PREFIX } from '../format.js';
import type { Store, StoreObject, Versioned } from './types.js';

const MUTEX_STALE_MS = 10_000;

export class LocalStore implements Store {
  readonly describe: string;
  readonly #tmp: string;

  constructor(readonly root: string) {
    this.describe = `local ${root}`;
    this.#tmp = join(root, 'tmp');
  }

  #path(key: string): string {
    if (key.split('/').some((p) => p === '..' || p === '')) throw new PilotfishError('PF_INTERNAL', `bad store key ${key}`);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Buffer): Promise<void> {
    const target = this.#path(key);
    await mkdir(this.#tmp, { recursive: true });
    const tmp = join(this.#tmp, `${randomBytes(8).toString('hex')}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(body);
      // Chunks are made durable together by flush() before the manifest that names them.
      if (!key.startsWith(CHUNK_PREFIX) && !key.startsWith(PACK_PREFIX)) await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dirname(target), { recursive: true });
      await rename(tmp, target);
    }
  }

  /** syncfs(2) of the repository's filesystem (`sync -f`), else a plain sync. */
  async flush(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      execFile('sync', ['-f', this.root], { timeout: 600_000 }, (error) => {
        if (!error) return resolve();
        execFile('sync', [], { timeout: 600_000 }, (e2) =>
          e2 ? reject(new PilotfishError('PF_BACKUP_STORE', `cannot sync ${this.root}: ${e2.message}`, { cause: e2 })) : resolve(),
        );
      }),
    );
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.#path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer | undefined> {
    let fh;
    try {
      fh = await open(this.#path(key), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      await stat(this.#path(key));
      return true;
    } catch {
      return false;
    }
  }

  async *list(prefix: string): AsyncIterable<StoreObject> {
    // Walk only the directory the prefix names, then filter.
    const cut = prefix.lastIndexOf('/');
    const dir = cut < 0 ? this.root : this.#path(prefix.slice(0, cut));
    const found: StoreObject[] = [];
    const walk = async (d: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(d, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const full = join(d, e.name);
        if (full === this.#tmp) continue;
        if (e.isDirectory()) {
          if (!e.name.endsWith('.mutex')) await walk(full);
          continue;
        }
        const key = relative(this.root, full).split(sep).join('/');
        if (!key.startsWith(prefix)) continue;
        try {
          const st = await stat(full);
          found.push({ key, size: st.size, modified: st.mtime });
        } catch {
          // deleted while listing
        }
      }
    };
    await walk(dir);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  async getVersioned(key: string): Promise<Versioned | undefined> {
    const body = await this.get(key);
    return body ? { body, etag: etagOf(body) } : undefined;
  }

  async putIfAbsent(key: string, body: Buffer): Promise<string | undefined> {
    return this.#withMutex(key, async () => {
      if (await this.has(key)) return undefined;
      await this.put(key, body);
      return etagOf(body);
    });
  }

  async putIfMatch(key: string, body: Buffer, etag: string): Promise<string | undefined> {
    return this.#withMutex(key, async () => {
      const current = await this.get(key);
      if (!current || etagOf(current) !== etag) return undefined;
      await this.put(key, body);
      return etagOf(body);
    });
  }

  async #withMutex<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lock = `${this.#path(key)}.mutex`;
    await mkdir(dirname(lock), { recursive: true });
    const deadline = Date.now() + MUTEX_STALE_MS * 2;
    for (;;) {
      try {
        await mkdir(lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const st = await stat(lock).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > MUTEX_STALE_MS) await rm(lock, { recursive: true, force: true });
        if (Date.now() > deadline) throw new PilotfishError('PF_BACKUP_STORE', `cannot lock ${lock}; remove it if no backup runs`);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

function etagOf(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

export async function removeTemp(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}
