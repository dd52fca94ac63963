// The control socket: permissions, stale sockets, live sockets, cleanup, clear client errors.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, startPilotfish } from '../helpers/pilotfish.js';
import { cli, startControlled } from './harness.js';

afterEach(killAll);

const jobs = [{ name: 'app', exec: ['sleep', '1000'], main: true }];
const isRoot = process.getuid?.() === 0;
const hasSetpriv = (() => {
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function nobodyGroup(): { name: string; gid: number } {
  for (const name of ['nogroup', 'nobody']) {
    try {
      const gid = Number(execFileSync('getent', ['group', name], { encoding: 'utf8' }).split(':')[2]);
      if (Number.isInteger(gid)) return { name, gid };
    } catch {
      // try the next
    }
  }
  return { name: '65534', gid: 65534 };
}

describe('control socket', () => {
  it('is 0600 by default and removed on exit', async () => {
    const pf = await startControlled({ jobs });
    const st = statSync(pf.socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    await pf.signal('SIGTERM');
    await pf.exited;
    expect(existsSync(pf.socket)).toBe(false);
  });

  it.runIf(isRoot && hasSetpriv)('denies another user, with a message that says what to do', async () => {
    const pf = await startControlled({ jobs });
    chmodSync(pf.dir, 0o755); // only the socket's own mode stands in the way
    const asNobody = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];
    const r = await cli(['status', '--socket', pf.socket], {}, asNobody);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/permission denied on .*pilotfish\.sock: run this as the socket's owner, or give your group access with control\.group/);
    const health = await cli(['health', '--socket', pf.socket], {}, asNobody);
    expect(health.code).toBe(1);
  });

  it.runIf(isRoot && hasSetpriv)('mode 0660 with a group lets that group in', async () => {
    const group = nobodyGroup();
    const pf = await startControlled({ jobs, control: { mode: '0660', group: group.name } });
    chmodSync(pf.dir, 0o755);
    const st = statSync(pf.socket);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(group.gid);
    const member = ['setpriv', '--reuid', '65534', '--regid', String(group.gid), '--clear-groups'];
    const r = await cli(['status', '--json', '--socket', pf.socket], {}, member);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).mainJob).toBe('app');
  });

  it('replaces a stale socket that nothing answers on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-stale-'));
    const socket = join(dir, 'pilotfish.sock');
    // A socket file with no listener, as a killed Pilotfish leaves behind.
    execFileSync('python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(socket)})`]);
    expect(statSync(socket).isSocket()).toBe(true);
    const before = await cli(['status', '--socket', socket]);
    expect(before.stderr).toMatch(/nothing answers on .*\(a stale socket\)/);
    const pf = await startControlled({ jobs, control: { socket } });
    expect((await pf.api('GET', '/v1/ping')).status).toBe(200);
  });

  it('never takes over a socket something answers on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-live-'));
    const socket = join(dir, 'pilotfish.sock');
    const server = createServer((c) => c.end());
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const pf = startPilotfish({ jobs, control: { socket } }, { dir });
      const exit = await pf.exited;
      expect(exit.code).toBe(1);
      expect(pf.output()).toMatch(/another process \(a running Pilotfish\?\) answers on .*pilotfish\.sock/);
      expect(statSync(socket).isSocket()).toBe(true);
    } finally {
      server.close();
    }
  });

  it('refuses to replace a file that is not a socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-file-'));
    const socket = join(dir, 'pilotfish.sock');
    writeFileSync(socket, 'not a socket');
    const pf = startPilotfish({ jobs, control: { socket } }, { dir });
    expect((await pf.exited).code).toBe(1);
    expect(pf.output()).toMatch(/exists and is not a socket/);
  });

  it('a mode that is not octal is a config error', async () => {
    const r = await cli(['validate', '--config', writeTemp('control: {mode: "0999"}\njobs: [{name: a, exec: "true"}]\n')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/control\.mode/);
  });
});

function writeTemp(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pf-cfg-')), 'pilotfish.yaml');
  writeFileSync(file, text);
  return file;
}
