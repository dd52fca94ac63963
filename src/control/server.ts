/**
 * The control server: HTTP/JSON over a unix socket. The socket is created under a strict umask
 * and then given its configured mode and group, so it is never briefly open to others. A stale
 * socket (nothing answers on it) is replaced; a live one is never taken over.
 */
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { PilotfishError, errorMessage } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { ControlError, type ControlRoutes, type Method } from '../subsystem/routes.js';

export interface ControlServerOptions {
  socket: string;
  mode: number;
  gid?: number;
  routes: ControlRoutes;
  log: Logger;
}

export interface ControlServer {
  readonly socket: string;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

/** Does something answer on this socket? */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = connect(socket);
    const done = (live: boolean): void => {
      conn.destroy();
      resolve(live);
    };
    conn.once('connect', () => done(true));
    conn.once('error', () => done(false));
    conn.setTimeout(1000, () => done(true)); // something is there, just slow: do not take it over
  });
}

async function clearStale(socket: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(socket)).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) {
    throw new PilotfishError('PF_CONTROL_SOCKET', `${socket} exists and is not a socket; remove it or set control.socket to another path`);
  }
  if (await answers(socket)) {
    throw new PilotfishError('PF_CONTROL_SOCKET', `another process (a running Pilotfish?) answers on ${socket}; stop it or set control.socket to another path`);
  }
  await unlink(socket);
}

function statusOf(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof ControlError) return { status: error.status, code: error.code, message: error.message };
  if (error instanceof PilotfishError) {
    const status =
      error.code === 'PF_JOB_NOT_FOUND'
        ? 404
        : error.code.startsWith('PF_CONFIG')
          ? 400
          : error.code === 'PF_CONTROL_REFUSED' || error.code === 'PF_JOB_NOT_RUNNING'
            ? 409
            : 500;
    return { status, code: error.code, message: error.message };
  }
  return { status: 500, code: 'PF_INTERNAL', message: errorMessage(error) };
}

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ControlError(413, 'request body too large (1 MiB at most)', 'PF_CONTROL_BAD_REQUEST'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve({});
      try {
        const body = JSON.parse(text) as unknown;
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
        resolve(body as Record<string, unknown>);
      } catch {
        reject(new ControlError(400, 'the request body must be a JSON object'));
      }
    });
  });
}

async function handle(routes: ControlRoutes, log: Logger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://pilotfish');
  const method = (req.method ?? 'GET') as Method;
  let status = 200;
  let payload: unknown;
  try {
    const { handler, params } = routes.match(method, url.pathname);
    const body = await readBody(req);
    payload = (await handler({ method, path: url.pathname, params, query: url.searchParams, body })) ?? { ok: true };
  } catch (error) {
    const e = statusOf(error);
    status = e.status;
    payload = { error: { code: e.code, message: e.message } };
    if (status >= 500) log.error({ err: error, path: url.pathname }, `control ${method} ${url.pathname} failed`);
  }
  log.debug({ method, path: url.pathname, status }, 'control request');
  const text = `${JSON.stringify(payload)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const { socket, routes, log } = options;
  await clearStale(socket);
  const server: Server = createServer((req, res) => void handle(routes, log, req, res));
  server.keepAliveTimeout = 1000;
  // Created owner-only, then opened up to the configured mode: never briefly world-accessible.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (cause) {
    throw new PilotfishError('PF_CONTROL_SOCKET', `cannot listen on ${socket}: ${errorMessage(cause)}`, { cause });
  } finally {
    process.umask(umask);
  }
  if (options.gid !== undefined) await chown(socket, -1, options.gid);
  await chmod(socket, options.mode);
  const ino = (await lstat(socket)).ino;
  server.on('error', (err) => log.error({ err }, 'control socket error'));
  log.info({ socket, mode: `0${options.mode.toString(8)}` }, 'control socket listening');
  return {
    socket,
    async close() {
      // Closing unlinks the socket; if it is still there and still ours, remove it. A socket
      // another Pilotfish has put at the same path since is left alone.
      const ours = await lstat(socket).then((st) => st.ino === ino, () => false);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ours) await unlink(socket).catch(() => undefined);
    },
  };
}
