/**
 * Secret files (`vault.files`): written with the one atomic write (src/kernel/atomic-write.ts),
 * so no reader ever sees a partial secret or a moment with looser permissions, and a secret
 * file that is a bind mount of its own is rewritten in place. Owned by the file's `user`, else
 * its job's user.
 */
import { writeFileAtomic } from '../kernel/atomic-write.js';
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
    throw new PilotfishError(
      'PF_VAULT_SECRET',
      `secret ${file.secret} has no field "${file.field}" for ${file.path} (fields: ${Object.keys(data).join(', ') || 'none'})`,
    );
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Atomically, owner and mode set before it appears; in place when the file is a bind mount of its own. */
export async function writeSecretFile(path: string, content: string, mode: number, owner: Owner | undefined): Promise<void> {
  await writeFileAtomic(path, content, { mode, uid: owner?.uid, gid: owner?.gid, mkdir: true, code: 'PF_VAULT_FILE', what: 'the secret file' });
}
