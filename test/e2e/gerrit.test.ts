// A Gerrit-style git service (examples/gerrit/git-daemon.yaml, unchanged): a real `git daemon`
// serving bare repositories from a state directory, Pilotfish as PID 1, backups to real MinIO.
// Every push's post-receive hook asks the running Pilotfish for a backup over its control
// socket. Then the instance is destroyed (kill -9 of the namespace, state deleted) and a fresh,
// empty one restores before serving: `git fsck` is clean and every ref matches.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { killAll, ROOT, startPilotfish, type Running } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { removeTempDirs, s3Env, tempDir, uniqueName } from './helpers.js';

const run = promisify(execFile);
const CONFIG = readFileSync(join(ROOT, 'examples/gerrit/git-daemon.yaml'), 'utf8');
const GIT_ID = ['-c', 'user.name=E2E', '-c', 'user.email=e2e@example.invalid', '-c', 'init.defaultBranch=main'];

async function git(cwd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('git', [...GIT_ID, ...args], { cwd, timeout: 60_000 });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describeWithServices('e2e: Gerrit-style git service (examples/gerrit)', ['s3'], () => {
  afterAll(async () => {
    await killAll();
    removeTempDirs();
  });

  it('pushes trigger backups; a fresh empty instance restores before serving, fsck clean, refs equal', async () => {
    const id = uniqueName('git');
    const root = tempDir('pf-e2e-git-');
    const state = join(root, 'srv-git');
    const port = await freePort();
    const url = (repo: string): string => `git://127.0.0.1:${port}/${repo}`;
    const env = {
      ...s3Env(),
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug',
      PILOTFISH_SOCKET: join(root, 'pilotfish.sock'),
      GIT_ROOT: state,
      GIT_PORT: String(port),
      GIT_LISTEN: '127.0.0.1',
      GIT_USER: 'root',
      GIT_GROUP: 'root',
      GIT_HOOKS: join(ROOT, 'examples/gerrit/hooks'),
      BACKUP_BUCKET: services().PILOTFISH_TEST_BUCKET,
      BACKUP_PREFIX: `e2e/${id}/`,
    };
    const start = (): Running => startPilotfish(CONFIG, { pid1: true, env, dir: root });
    const serving = (pf: Running): Promise<unknown> => pf.waitForLog((l) => l.job === 'git-daemon' && /started/.test(l.msg), 20_000);

    // --- the first instance: an empty state dir, nothing to restore ---------------------------
    mkdirSync(state);
    const first = start();
    await serving(first);
    for (const repo of ['alpha.git', 'beta.git']) await git(state, 'init', '--bare', '-q', repo); // "create project"

    const work = join(root, 'work');
    mkdirSync(work);
    await git(work, 'init', '-q');
    const pushes: string[] = [];
    const push = async (repo: string, ...refs: string[]): Promise<void> => {
      await waitFor(async () => (await git(work, 'ls-remote', url(repo))) !== undefined, { timeout: 10_000, message: `git daemon serving ${repo}` });
      const { stderr } = await git(work, 'push', '-q', url(repo), ...refs);
      pushes.push(stderr);
    };
    for (let i = 1; i <= 3; i++) {
      writeFileSync(join(work, `file${i}.txt`), `change ${i}\n`.repeat(1000 * i));
      await git(work, 'add', '.');
      await git(work, 'commit', '-q', '-m', `change ${i}`);
      await push('alpha.git', 'HEAD:refs/heads/main');
    }
    await git(work, 'tag', '-a', 'v1.0', '-m', 'release 1.0');
    await git(work, 'checkout', '-q', '-b', 'feature');
    writeFileSync(join(work, 'feature.txt'), 'feature\n');
    await git(work, 'add', '.');
    await git(work, 'commit', '-q', '-m', 'feature');
    await push('alpha.git', 'feature', 'v1.0');
    await push('beta.git', 'HEAD:refs/heads/main', 'HEAD:refs/changes/01/1/1'); // a Gerrit-style change ref

    // Every push was acknowledged with a snapshot, made by the running instance (reason "control").
    expect(pushes).toHaveLength(5);
    for (const out of pushes) expect(out).toMatch(/pilotfish: backed up as snapshot \d{8}T/);
    expect(first.logs.filter((l) => l.msg.startsWith('backed up') && l.reason === 'control').length).toBeGreaterThanOrEqual(5);

    const before = {
      alpha: (await git(work, 'ls-remote', url('alpha.git'))).stdout,
      beta: (await git(work, 'ls-remote', url('beta.git'))).stdout,
    };
    expect(before.alpha).toContain('refs/tags/v1.0');
    expect(before.beta).toContain('refs/changes/01/1/1');

    // --- destroy it: kill -9 the whole PID namespace, delete the state ------------------------
    await first.signal('SIGKILL'); // PID 1 of its namespace: the kernel kills everything in it
    await first.exited;
    await first.kill(); // nothing left; only the helper's bookkeeping
    rmSync(state, { recursive: true, force: true });

    // --- a fresh, empty instance --------------------------------------------------------------
    const second = start();
    await serving(second);
    // "started" is the spawn; wait until the daemon accepts connections.
    await waitFor(async () => (await git(work, 'ls-remote', url('alpha.git'))) !== undefined, { timeout: 10_000, message: 'the new git daemon to listen' });
    const restoredAt = second.logs.findIndex((l) => l.msg.startsWith('restored snapshot'));
    const servedAt = second.logs.findIndex((l) => l.job === 'git-daemon' && /started/.test(l.msg));
    expect(restoredAt, second.output().slice(-4000)).toBeGreaterThanOrEqual(0);
    expect(restoredAt).toBeLessThan(servedAt); // restored before serving

    for (const repo of ['alpha', 'beta'] as const) {
      const { stdout, stderr } = await run('git', ['fsck', '--full', '--strict'], { cwd: join(state, `${repo}.git`) });
      expect(`${stdout}${stderr}`.replace(/^Checking .*$/gm, '').trim()).toBe('');
      expect((await git(work, 'ls-remote', url(`${repo}.git`))).stdout).toBe(before[repo]);
    }
    // And it serves: a clone has the history.
    const clone = join(root, 'clone');
    await git(root, 'clone', '-q', url('alpha.git'), clone);
    expect((await git(clone, 'log', '--oneline', 'origin/feature')).stdout.trim().split('\n')).toHaveLength(4);

    // git daemon dies of SIGTERM; Pilotfish exits with its main job's status (128 + 15).
    await second.signal('SIGTERM');
    expect((await second.exited).code).toBe(143);
  }, 120_000);
});
