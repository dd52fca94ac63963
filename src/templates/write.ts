/**
 * Writing a rendered file: atomically (a temp file in the same directory, then rename), with
 * mode and owner set before it appears. A bind-mounted file cannot be replaced by rename
 * (EBUSY, or EXDEV across mounts): then it is rewritten in place.
 */
import { randomBytes } from 'node:crypto';
import { chmod, chown, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PilotfishError } from '../kernel/errors.js';

export interface WriteOptions {
  mode?: number;
  /** The mode of a new file when `mode` is not set (an existing file keeps its own); default 0644. */
  newFileMode?: number;
  uid?: number;
  gid?: number;
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

/** Returns how the file was written: 'renamed' (atomic) or 'in-place' (bind mount). */
export async function writeFileAtomic(path: string, content: string, options: WriteOptions = {}): Promise<'renamed' | 'in-place'> {
  const mode = options.mode ?? (await existingMode(path)) ?? options.newFileMode ?? 0o644;
  const temp = join(dirname(path), `.${basename(path)}.pilotfish-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(temp, 'wx', 0o600);
    try {
      await fh.writeFile(content);
      await fh.sync();
      if (options.uid !== undefined) await fh.chown(options.uid, options.gid ?? -1);
      await fh.chmod(mode); // after chown: chown clears setuid bits
    } finally {
      await fh.close();
    }
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    throw new PilotfishError('PF_TEMPLATE_WRITE', `cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    await rename(temp, path);
    return 'renamed';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    await unlink(temp).catch(() => undefined);
    if (code !== 'EBUSY' && code !== 'EXDEV' && code !== 'EPERM')
      throw new PilotfishError('PF_TEMPLATE_WRITE', `cannot replace ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const fh = await open(path, 'w', mode);
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (options.uid !== undefined) await chown(path, options.uid, options.gid ?? -1);
    await chmod(path, mode);
    return 'in-place';
  } catch (cause) {
    throw new PilotfishError('PF_TEMPLATE_WRITE', `cannot write ${path} in place: ${(cause as Error).message}`, { cause });
  }
}
