// The one atomic write (templates and secret files): atomic replace with mode, and the in-place
// fallback for a bind-mounted file (rename onto a mount point fails with EBUSY).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic as write, type WriteOptions } from '../../src/kernel/atomic-write.js';
import { writeSecretFile } from '../../src/vault/files.js';

const writeFileAtomic = (path: string, content: string, options: Omit<WriteOptions, 'code' | 'what'> = {}) =>
  write(path, content, { ...options, code: 'PF_TEMPLATE_WRITE', what: 'the file' });

function canBindMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('writeFileAtomic', () => {
  it('replaces the file by rename, sets the mode, and leaves no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-write-'));
    const file = join(dir, 'out.conf');
    writeFileSync(file, 'old');
    const inode = statSync(file).ino;
    expect(await writeFileAtomic(file, 'new', { mode: 0o600 })).toBe('renamed');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(file).ino).not.toBe(inode); // a new file took its place: readers never see half
    expect(readdirSync(dir)).toEqual(['out.conf']);
    // Without a mode, the existing file's mode is kept.
    expect(await writeFileAtomic(file, 'newer')).toBe('renamed');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    rmSync(dir, { recursive: true, force: true });
  });

  it('sets the owner', async () => {
    if (process.getuid?.() !== 0) return;
    const dir = mkdtempSync(join(tmpdir(), 'pf-write-'));
    const file = join(dir, 'owned');
    await writeFileAtomic(file, 'x', { uid: 65534, gid: 65534, mode: 0o644 });
    expect(statSync(file).uid).toBe(65534);
    expect(statSync(file).gid).toBe(65534);
    rmSync(dir, { recursive: true, force: true });
  });

  it.runIf(canBindMount())('falls back to an in-place write for a bind-mounted file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-write-'));
    const source = join(dir, 'host-side');
    const target = join(dir, 'mounted');
    writeFileSync(source, 'old');
    writeFileSync(target, '');
    execFileSync('mount', ['--bind', source, target]);
    try {
      expect(await writeFileAtomic(target, 'new content', { mode: 0o644 })).toBe('in-place');
      expect(readFileSync(target, 'utf8')).toBe('new content');
      expect(readFileSync(source, 'utf8')).toBe('new content'); // the host side sees it
      expect(readdirSync(dir).sort()).toEqual(['host-side', 'mounted']);
    } finally {
      execFileSync('umount', [target]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(canBindMount())('writes a Vault secret file onto a bind-mounted single file (as Docker and Kubernetes mount one)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-write-'));
    const source = join(dir, 'host-side');
    const target = join(dir, 'db-password');
    writeFileSync(source, 'old', { mode: 0o644 });
    writeFileSync(target, '');
    execFileSync('mount', ['--bind', source, target]);
    try {
      await writeSecretFile(target, 's3cret-value', 0o600, undefined);
      expect(readFileSync(target, 'utf8')).toBe('s3cret-value');
      expect(readFileSync(source, 'utf8')).toBe('s3cret-value');
      expect(statSync(source).mode & 0o777).toBe(0o600); // tightened before the secret was written
      expect(readdirSync(dir).sort()).toEqual(['db-password', 'host-side']);
    } finally {
      execFileSync('umount', [target]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
