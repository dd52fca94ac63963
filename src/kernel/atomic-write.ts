/**
 * Writing a file others read (a rendered template, a secret file) so that no reader ever sees
 * a partial file or a moment with looser permissions: a temp file created 0600 in the same
 * directory, owner and mode set, content synced, then renamed over the target.
 *
 * A file that is a bind mount of its own (Docker and Kubernetes mount single files this way)
 * cannot be replaced by rename (EBUSY, or EXDEV/EPERM across mounts): it is rewritten in place
 * instead, owner and mode first. Errors name the path and the OS reason, never the content.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PilotfishError, type ErrorCode } from './errors.js';

export interface WriteOptions {
  mode?: number | undefined;
  /** The mode of a new file when `mode` is not set (an existing file keeps its own); default 0644. */
  newFileMode?: number | undefined;
  uid?: number | undefined;
  gid?: number | undefined;
  /** Create missing parent directories (0755). */
  mkdir?: boolean | undefined;
  /** The code of the PilotfishError thrown on failure, and what the file is, for the message. */
  code: ErrorCode;
  what: string;
}

/** The current content, or undefined when the file does not exist. */
export async function readCurrent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function existingMode(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/** Returns how the file was written: 'renamed' (atomic) or 'in-place' (a bind-mounted file). */
export async function writeFileAtomic(path: string, content: string, options: WriteOptions): Promise<'renamed' | 'in-place'> {
  const fail = (verb: string, cause: unknown): PilotfishError =>
    new PilotfishError(options.code, `cannot ${verb} ${options.what} ${path}: ${(cause as Error).message}`, { cause });
  const mode = options.mode ?? (await existingMode(path)) ?? options.newFileMode ?? 0o644;
  const temp = join(dirname(path), `.${basename(path)}.pilotfish-${randomBytes(4).toString('hex')}.tmp`);
  try {
    if (options.mkdir) await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    const fh = await open(temp, 'wx', 0o600);
    try {
      if (options.uid !== undefined) await fh.chown(options.uid, options.gid ?? -1);
      await fh.chmod(mode); // after chown: chown clears setuid bits
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    throw fail('write', cause);
  }
  try {
    await rename(temp, path);
    return 'renamed';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    await unlink(temp).catch(() => undefined);
    if (code !== 'EBUSY' && code !== 'EXDEV' && code !== 'EPERM') throw fail('replace', error);
  }
  try {
    const fh = await open(path, 'r+');
    try {
      if (options.uid !== undefined) await fh.chown(options.uid, options.gid ?? -1);
      await fh.chmod(mode);
      await fh.truncate(0);
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return 'in-place';
  } catch (cause) {
    throw fail('write in place', cause);
  }
}
