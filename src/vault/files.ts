/**
 * Secret files (`vault.files`): written atomically (a temp file created 0600 in the same
 * directory, owner and mode set, then renamed), so no reader ever sees a partial secret or a
 * moment with looser permissions. Owned by the file's `user`, else its job's user.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PilotfishError } from '../kernel/errors.js';
import type { JobConfig } from '../jobs/config.js';
import { resolveUser } from '../jobs/user.js';
import type { FileConfig } from './config.js';
import type { SecretData } from './secrets.js';

export interface Owner {
  uid: number;
  gid: number;
}

/** The owner of a secret file: its `user`, else its job's `user`, else ours. */
export function fileOwner(file: FileConfig, jobs: readonly JobConfig[]): Owner | undefined {
  const spec = file.user ?? (file.job !== undefined ? jobs.find((j) => j.name === file.job)?.user : undefined);
  if (spec === undefined) return undefined;
  const ids = resolveUser(spec);
  return { uid: ids.uid, gid: ids.gid };
}

/** The file's content from the secret: one field as is, or the whole secret as JSON. */
export function fileContent(file: FileConfig, data: SecretData): string {
  if (file.field === undefined) return `${JSON.stringify(data, null, 2)}\n`;
  const value = data[file.field];
  if (value === undefined)
    throw new PilotfishError('PF_VAULT_SECRET', `secret ${file.secret} has no field "${file.field}" for ${file.path} (fields: ${Object.keys(data).join(', ') || 'none'})`);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export async function writeSecretFile(path: string, content: string, mode: number, owner: Owner | undefined): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.pilotfish-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    const fh = await open(temp, 'wx', 0o600);
    try {
      if (owner) await fh.chown(owner.uid, owner.gid);
      await fh.chmod(mode);
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, path);
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    // The OS message names the path and the errno only; the content is never part of it.
    throw new PilotfishError('PF_VAULT_FILE', `cannot write the secret file ${path}: ${(cause as Error).message}`);
  }
}
