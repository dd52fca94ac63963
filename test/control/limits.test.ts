// Control socket limits (issue 18 items 1 and 10): the mode as written in YAML, a body cap with a
// 413, header and idle timeouts, a connection cap that keeps Pilotfish alive, a burst of connects.
import { statSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, startPilotfish } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';
import { startControlled } from './harness.js';

afterEach(killAll);

const jobs = [{ name: 'app', main: true, exec: ['sleep', '1000'] }];

function raw(socket: string, method: string, path: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function closed(conn: Socket): Promise<void> {
  return new Promise((resolve) => (conn.destroyed ? resolve() : conn.once('close', () => resolve())));
}

function connected(socket: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    conn.once('connect', () => resolve(conn));
    conn.once('error', reject);
  });
}

describe('control socket limits', () => {
  it.each([
    ['0o600', 0o600],
    ['0o640', 0o640],
    ['"0660"', 0o660],
    ['384', 0o600],
  ])('mode: %s (YAML as written) gives the socket exactly %o', async (written, mode) => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-mode-'));
    const socket = join(dir, 'pf.sock');
    const pf = startPilotfish(`control: {socket: ${socket}, mode: ${written}}\njobs: [{name: app, main: true, exec: [sleep, "1000"]}]\n`, { dir });
    await pf.waitForLog('control socket listening');
    expect(statSync(socket).mode & 0o7777).toBe(mode);
  });

  it('a body over 1 MiB gets a 413 answer, not a reset, and the socket still serves', async () => {
    const pf = await startControlled({ jobs });
    const big = Buffer.from(JSON.stringify({ A: 'x'.repeat(2 * 1024 * 1024) }));
    const reply = await raw(pf.socket, 'POST', '/v1/environ', big);
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.text)).toEqual({ error: { code: 'PF_CONTROL_TOO_LARGE', message: 'request body too large (1048576 bytes at most)' } });
    expect((await pf.api('GET', '/v1/ping')).status).toBe(200);
  });

  it('a connection that sends nothing, or only part of its headers, is closed', async () => {
    const pf = await startControlled({ jobs });
    const idle = await connected(pf.socket);
    const partial = await connected(pf.socket);
    partial.write('GET /v1/ping HTTP/1.1\r\nHost: x\r\n');
    await Promise.all([closed(idle), closed(partial)]);
    expect((await pf.api('GET', '/v1/ping')).status).toBe(200);
  });

  it('1,100 idle clients do not take Pilotfish down: over the cap they get a 503, and it says so once in the log', async () => {
    const pf = await startControlled({ jobs });
    const conns: Socket[] = [];
    const answers: string[] = [];
    for (let i = 0; i < 1100; i++) {
      const c = await connected(pf.socket);
      c.setEncoding('utf8');
      c.on('data', (d: string) => answers.push(d));
      c.on('error', () => undefined);
      conns.push(c);
    }
    await waitFor(() => answers.filter((a) => a.startsWith('HTTP/1.1 503')).length >= 1100 - 512, { message: '503s for the clients over the cap' });
    const line = await pf.waitForLog((l) => l.msg.startsWith('control socket: 512 connections open, the most it takes (512)'));
    expect(line.level).toBe('warn');
    // The idle ones are closed in time; the app and the socket are fine.
    await Promise.all(conns.map(closed));
    expect((await pf.api('GET', '/v1/ping')).status).toBe(200);
    expect((await pf.status()).jobs[0]?.state).toBe('running');
    expect(pf.child.exitCode).toBeNull();
  });

  it('a burst of 3,000 connects while Pilotfish is not accepting is queued, not refused, and answered', async () => {
    const pf = await startControlled({ jobs });
    // Stopped, Pilotfish accepts nothing: every connect waits in the listen backlog (or is
    // refused with EAGAIN once it is full: with Node's default of 511, 2,489 of these were).
    await pf.signal('SIGSTOP');
    const conns = await Promise.all(
      Array.from(
        { length: 3000 },
        () =>
          new Promise<Socket | string>((resolve) => {
            const c = connect(pf.socket);
            c.once('connect', () => resolve(c));
            c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
          }),
      ),
    );
    await pf.signal('SIGCONT');
    const refused = conns.filter((c) => typeof c === 'string');
    expect(refused).toEqual([]);
    const answers = await Promise.all(
      conns.map(
        (c) =>
          new Promise<string>((resolve) => {
            const s = c as Socket;
            let text = '';
            s.setEncoding('utf8');
            s.on('data', (d: string) => (text += d));
            s.on('error', () => undefined);
            s.on('close', () => resolve(text.slice(0, 12)));
            s.end('GET /v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
          }),
      ),
    );
    const counts: Record<string, number> = {};
    for (const a of answers) counts[a] = (counts[a] ?? 0) + 1;
    expect(Object.keys(counts).filter((k) => k !== 'HTTP/1.1 200' && k !== 'HTTP/1.1 503')).toEqual([]);
    expect(counts['HTTP/1.1 200']).toBeGreaterThan(0);
    expect((await pf.api('GET', '/v1/ping')).status).toBe(200);
  });
});
