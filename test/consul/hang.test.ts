// A Consul that accepts connections and never answers (a dropped connection, a hung proxy):
// the watch's request must time out and back off, never hang silently (the node client's
// own watch() could). A silent TCP peer is a fault, not a fake Consul: nothing answers.
import * as valibot from 'valibot';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import pino from 'pino';
import { createClient } from '../../src/consul/client.js';
import { consulSchema } from '../../src/consul/config.js';
import { BlockingQuery } from '../../src/consul/blocking-query.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

let server: Server;
const sockets = new Set<Socket>();
let port = 0;

beforeAll(async () => {
  server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

describe('watch against a silent peer', () => {
  it('times each request out, warns, and keeps retrying', async () => {
    const lines: Array<{ msg: string; level: number }> = [];
    const log = pino({ level: 'trace' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const { client } = createClient(valibot.parse(consulSchema, { address: `127.0.0.1:${port}`, requestTimeout: '300ms' }));
    const watcher = new BlockingQuery({ kind: 'key', key: 'x' }, client, { blockingWait: 1000, requestTimeout: 300, log, label: 'watch silent' }, () => {});
    const t0 = Date.now();
    watcher.start();
    try {
      const warn = await waitFor(() => lines.find((l) => l.level === 40), { timeout: 5_000, message: 'a warning' });
      expect(warn.msg).toMatch(/watch silent: cannot reach Consul \(.*timed out.*\); retrying with backoff/);
      expect(Date.now() - t0).toBeLessThan(2_000);
      await waitFor(() => (watcher.status().errors as number) >= 3, { timeout: 10_000, message: 'more attempts' });
      // Rate-limited: three failures, one warning line.
      expect(lines.filter((l) => l.level === 40).length).toBe(1);
    } finally {
      watcher.stop();
      client.destroy();
    }
  });
});

/** A TCP relay to the real Consul that can be frozen: bytes stop flowing both ways, nothing closes. */
async function relay(target: string): Promise<{ port: number; freeze: () => void; thaw: () => void; close: () => Promise<void> }> {
  const url = new URL(/^http/.test(target) ? target : `http://${target}`);
  let frozen = false;
  const held: Array<() => void> = [];
  const conns = new Set<Socket>();
  const srv = createServer((down) => {
    const up = connect(Number(url.port), url.hostname);
    conns.add(down).add(up);
    const pipe = (from: Socket, to: Socket) => from.on('data', (chunk) => (frozen ? held.push(() => to.write(chunk)) : to.write(chunk)));
    pipe(down, up);
    pipe(up, down);
    const end = () => (down.destroy(), up.destroy());
    down.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as { port: number }).port,
    freeze: () => void (frozen = true),
    thaw: () => {
      frozen = false;
      for (const f of held.splice(0)) f();
    },
    close: async () => {
      for (const c of conns) c.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

describeWithServices('blocking query on a connection that goes silent', ['consul'], () => {
  it('times out after wait + margin, resets, and picks up changes once the path is back', async () => {
    const addr = services().CONSUL_HTTP_ADDR;
    const r = await relay(addr);
    const lines: Array<{ msg: string; level: number }> = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const { client } = createClient(valibot.parse(consulSchema, { address: `127.0.0.1:${r.port}`, requestTimeout: '300ms' }));
    const key = `hang-${Math.random().toString(36).slice(2, 8)}`;
    const seen: unknown[] = [];
    const watcher = new BlockingQuery(
      { kind: 'key', key },
      client,
      { blockingWait: 1000, requestTimeout: 300, log, label: 'watch frozen' },
      (c) => void seen.push(c),
    );
    watcher.start();
    try {
      await waitFor(() => (watcher.status().index as number) > 0, { message: 'a first answer' });
      r.freeze(); // the blocking request in flight now never gets its answer
      const t0 = Date.now();
      await waitFor(() => lines.find((l) => l.level === 40), { timeout: 5_000, message: 'a timeout warning' });
      expect(Date.now() - t0).toBeLessThan(1000 + 1000 / 16 + 300 + 1000);
      r.thaw();
      await fetch(`${/^http/.test(addr) ? addr : `http://${addr}`}/v1/kv/${key}`, { method: 'PUT', body: 'v1' });
      await waitFor(() => seen.includes('v1'), { timeout: 10_000, message: 'the change after recovery' });
      expect(lines.some((l) => l.msg === 'watch frozen: Consul answers again')).toBe(true);
    } finally {
      watcher.stop();
      client.destroy();
      await r.close();
      await fetch(`${/^http/.test(addr) ? addr : `http://${addr}`}/v1/kv/${key}`, { method: 'DELETE' });
    }
  });
});
