/** Shared pieces of the backup tests: trees to back up, digests to compare, configs per store. */
import * as valibot from 'valibot';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile, chmod } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupSchema, type BackupConfig } from '../../src/backup/config.js';
import { createLogger } from '../../src/kernel/logger.js';
import { services } from '../helpers/services.js';

export const log = createLogger({ level: 'silent' });

const made: string[] = [];

export function tempDir(tag = 'pf-backup-'): string {
  const dir = mkdtempSync(join(tmpdir(), tag));
  made.push(dir);
  return dir;
}

/** Remove every directory and local repository the tests of this file made (call from afterAll). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A small tree: modes, a symlink, an empty dir, nested dirs, `small` small files and one `bigBytes` file. */
export async function makeTree(root: string, options: { small?: number; bigBytes?: number } = {}): Promise<void> {
  await mkdir(join(root, 'empty'), { recursive: true });
  await mkdir(join(root, 'nested/deeper'), { recursive: true });
  await writeFile(join(root, 'hello.txt'), 'hello\n');
  await chmod(join(root, 'hello.txt'), 0o640);
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'run.sh'), 0o755);
  await writeFile(join(root, 'nested/deeper/empty-file'), '');
  await symlink('hello.txt', join(root, 'link'));
  await symlink('/nonexistent/target', join(root, 'dangling'));
  await chmod(join(root, 'nested'), 0o750);
  const small = options.small ?? 50;
  await mkdir(join(root, 'many'), { recursive: true });
  for (let i = 0; i < small; i++) await writeFile(join(root, 'many', `f${i}.txt`), `file ${i} ${randomBytes(64 + (i % 7) * 100).toString('hex')}\n`);
  const big = options.bigBytes ?? 3 * 1024 * 1024;
  if (big > 0) await writeFile(join(root, 'big.bin'), pseudoRandom(big, 1));
}

/** Deterministic incompressible bytes. */
export function pseudoRandom(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let block = createHash('sha256').update(String(seed)).digest();
  for (let off = 0; off < size; off += 32) {
    block.copy(out, off, 0, Math.min(32, size - off));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** Everything a restore must bring back: paths, types, modes, contents, link targets, file mtimes. */
export async function treeDigest(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    const full = rel ? join(root, rel) : root;
    const st = await lstat(full);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out[rel] = `l ${await readlink(full)}`;
    else if (st.isFile()) {
      const hash = createHash('sha256')
        .update(await readFile(full))
        .digest('hex')
        .slice(0, 16);
      out[rel] = `f ${mode} ${st.size} ${hash} ${Math.floor(st.mtimeMs)}`;
    } else if (st.isDirectory()) {
      out[rel || '.'] = `d ${mode}`;
      for (const name of (await readdir(full)).sort()) await walk(rel ? `${rel}/${name}` : name);
    }
  };
  await walk('');
  return out;
}

export type StoreKind = 'local' | 's3';

function repoPath(id: string): string {
  const path = join(tmpdir(), `pf-repo-${id}`);
  if (!made.includes(path)) made.push(path);
  return path;
}

/** The `backup:` section as a user writes it, for `dir` on a fresh prefix (s3) or directory (local). */
export function rawConfigFor(
  kind: StoreKind,
  dir: string,
  extra: Record<string, unknown> = {},
  repoId = randomBytes(6).toString('hex'),
): Record<string, unknown> {
  const store =
    kind === 'local'
      ? { local: { path: repoPath(repoId) } }
      : { s3: { bucket: services().PILOTFISH_TEST_BUCKET, prefix: `backup-test/${repoId}/`, endpoint: services().AWS_ENDPOINT_URL_S3 } };
  return { sources: [{ path: dir, name: 'data' }], store, concurrency: 8, ...extra };
}

/** The same, parsed (durations in ms). */
export function configFor(kind: StoreKind, dir: string, extra: Record<string, unknown> = {}, repoId?: string): BackupConfig {
  return valibot.parse(backupSchema, rawConfigFor(kind, dir, extra, repoId));
}

/** Put the S3 credentials where the AWS SDK looks for them. */
export function useS3Env(): void {
  const env = services();
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_ENDPOINT_URL_S3'] as const) process.env[k] = env[k];
}
