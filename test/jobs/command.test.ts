import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toArgv } from '../../src/jobs/command.js';
import { spawnProcess } from '../../src/jobs/process.js';
import { resolveUser } from '../../src/jobs/user.js';
import type { Logger } from '../../src/kernel/logger.js';

describe('toArgv', () => {
  it('keeps arrays as they are', () => {
    expect(toArgv(['echo', 'a b', '$HOME'], false)).toEqual(['echo', 'a b', '$HOME']);
  });

  it('splits strings with shell-word rules and never expands variables', () => {
    expect(toArgv(`nginx -g 'daemon off;' --x="a b" $HOME`, false)).toEqual(['nginx', '-g', 'daemon off;', '--x=a b', '$HOME']);
  });

  it('refuses shell syntax unless shell: true', () => {
    expect(() => toArgv('echo hi | wc -l', false)).toThrow(/uses shell syntax \(\|\); set shell: true/);
    expect(() => toArgv('a && b', false)).toThrow(/shell syntax/);
    expect(toArgv('echo hi | wc -l', true)).toEqual(['/bin/sh', '-c', 'echo hi | wc -l']);
  });
});

describe('resolveUser', () => {
  it('resolves names, uids and groups from /etc/passwd and /etc/group', () => {
    expect(resolveUser('root')).toMatchObject({ uid: 0, gid: 0, name: 'root' });
    expect(resolveUser('nobody')).toMatchObject({ uid: 65534, name: 'nobody' });
    expect(resolveUser('1234:5678')).toEqual({ uid: 1234, gid: 5678, groups: [] });
    expect(resolveUser('nobody:root')).toMatchObject({ uid: 65534, gid: 0 });
  });

  it('gives a user named alone the supplementary groups that list it, and none with an explicit group', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-user-'));
    const files = { passwd: join(dir, 'passwd'), group: join(dir, 'group') };
    writeFileSync(files.passwd, 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
    writeFileSync(files.group, 'root:x:0:\nadm:x:4:syslog,app\naudio:x:29:app\napp:x:1000:app\nother:x:50:appx\n');
    expect(resolveUser('app', files)).toEqual({ uid: 1000, gid: 1000, groups: [4, 29], name: 'app', home: '/home/app' });
    expect(resolveUser('app:audio', files)).toMatchObject({ uid: 1000, gid: 29, groups: [] });
    expect(resolveUser('1000', files)).toMatchObject({ uid: 1000, groups: [4, 29] });
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(process.getuid?.() !== 0)('starts a job as its user with its supplementary groups (through setpriv), same pid, same exit code', async () => {
    const lines: string[] = [];
    const log = {
      info: (_o: unknown, line: string) => lines.push(line),
      debug: () => undefined,
      warn: (_o: unknown, line: string) => lines.push(`WARN ${line}`),
    } as unknown as Logger;
    const proc = spawnProcess({
      job: 'who',
      argv: ['/bin/sh', '-c', 'id -u; id -g; id -G; echo $$; exit 3'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      user: { uid: 65534, gid: 65534, groups: [4, 29] },
      logging: 'wrapped',
      log,
    });
    const exit = await proc.exited;
    expect(exit.code).toBe(3);
    expect(lines.slice(0, 2)).toEqual(['65534', '65534']);
    expect(
      (lines[2] ?? '')
        .split(' ')
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([4, 29, 65534]);
    expect(lines[3]).toBe(String(proc.pid)); // setpriv execs: the job's pid is the command's
  });

  it('names an unknown user', () => {
    expect(() => resolveUser('no-such-user')).toThrow('user "no-such-user" is not in /etc/passwd');
  });
});
