/** The `backup`, `snapshots` and `restore` commands of the built CLI, on the local store. */
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/pilotfish.js';
import { makeTree, rawConfigFor, removeTempDirs, tempDir, treeDigest } from './helpers.js';

afterAll(removeTempDirs);

const run = promisify(execFile);

describe('backup CLI', () => {
  it('backs up, lists and restores; a config without backup: says what to do', async () => {
    const src = join(tempDir(), 'src');
    await makeTree(src, { small: 5, bigBytes: 100_000 });
    const before = await treeDigest(src);
    const config = join(tempDir(), 'pilotfish.yaml');
    await writeFile(config, stringify({ jobs: [{ name: 'app', exec: 'true' }], backup: rawConfigFor('local', src) }));
    // No Pilotfish answers on the socket: the command works on the store directly.
    const noSocket = { env: { ...process.env, PILOTFISH_SOCKET: join(tempDir(), 'none.sock') } };
    const backup = JSON.parse((await run(process.execPath, [CLI, 'backup', '--config', config, '--json'], noSocket)).stdout) as {
      snapshot: string;
      stats: { files: number };
    };
    expect(backup.stats.files).toBe(9);
    const list = JSON.parse((await run(process.execPath, [CLI, 'snapshots', '--config', config, '--json'])).stdout) as Array<{
      name: string;
      readable: boolean;
    }>;
    expect(list).toMatchObject([{ name: backup.snapshot, readable: true }]);
    await rm(src, { recursive: true });
    const restored = JSON.parse((await run(process.execPath, [CLI, 'restore', '--config', config, '--json'])).stdout) as { snapshot: string };
    expect(restored.snapshot).toBe(backup.snapshot);
    expect(await treeDigest(src)).toEqual(before);

    const bare = join(tempDir(), 'bare.yaml');
    await writeFile(bare, stringify({ jobs: [{ name: 'app', exec: 'true' }] }));
    const failed = await run(process.execPath, [CLI, 'snapshots', '--config', bare]).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toMatch(/no backup: section/);
  });
});
