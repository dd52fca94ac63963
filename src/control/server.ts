/**
 * The control server: HTTP/JSON over a unix socket. The socket is created under a strict umask
 * and then given its configured mode and group, so it is never briefly open to others. A stale
 * socket (nothing answers on it) is replaced; a live one is never taken over.
 *
 * The socket listens as a plain `net` server; Node's HTTP server, which is most of the cost of
 * the control plane at start (about 1.3 MiB and 2 ms, bench/startup/README.md), is loaded when
 * the first connection comes, and takes each connection the cap lets in.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
// The socket file's metadata calls are synchronous: each takes microseconds on a local socket.
import { chmodSync, chownSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { PilotfishError, errorMessage } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { ControlError, type ControlRoutes, type Method } from '../subsystem/routes.js';

export interface ControlServerOptions {
  socket: string;
  /** The most connections at once (default {@link connectionCap}). */
  maxConnections?: number;
  mode: number;
  gid?: number;
  routes: ControlRoutes;
  log: Logger;
}

export interface ControlServer {
  readonly socket: string;
  close(): Promise<void>;
}

/** The largest request body; a bigger one gets 413. */
export const MAX_BODY = 1024 * 1024;
/** A client must send its request headers within this. */
export const HEADERS_TIMEOUT_MS = 5_000;
/** And the whole request (not the answer, which may wait for stop timeouts) within this. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** A connection with no request under way is closed after this long. */
export const IDLE_TIMEOUT_MS = 5_000;
/** Pending connects the kernel queues for us (it caps this at net.core.somaxconn). */
const BACKLOG = 4096;
/** How often a refusal for too many connections may be logged. */
const CAP_LOG_EVERY_MS = 10_000;

/**
 * The most connections served at once: 512, or a quarter of the open-file limit if that is
 * less, so that clients can never take the file descriptors the jobs and Pilotfish need (1,100
 * idle clients once ended Pilotfish with EMFILE).
 */
export function connectionCap(): number {
  let nofile = 1024;
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    nofile = soft === 'unlimited' ? Infinity : soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : 1024;
  } catch {
    // no /proc: assume 1024
  }
  return Math.max(16, Math.min(512, Math.floor(nofile / 4)));
}

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
    isSocket = lstatSync(socket).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) {
    throw new PilotfishError('PF_CONTROL_SOCKET', `${socket} exists and is not a socket; remove it or set control.socket to another path`);
  }
  if (await answers(socket)) {
    throw new PilotfishError('PF_CONTROL_SOCKET', `another process (a running Pilotfish?) answers on ${socket}; stop it or set control.socket to another path`);
  }
  unlinkSync(socket);
}

const BUSY_BODY = `${JSON.stringify({ error: { code: 'PF_CONTROL_BUSY', message: 'too many connections to the control socket; try again' } })}\n`;
const BUSY_REPLY = `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(BUSY_BODY)}\r\nconnection: close\r\n\r\n${BUSY_BODY}`;

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

const TOO_LARGE = `request body too large (${MAX_BODY} bytes at most)`;

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY) {
      req.resume(); // not read into memory; the connection is closed after the answer
      return reject(new ControlError(413, TOO_LARGE, 'PF_CONTROL_TOO_LARGE'));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > MAX_BODY) {
        over = true;
        chunks.length = 0;
        reject(new ControlError(413, TOO_LARGE, 'PF_CONTROL_TOO_LARGE'));
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
  if (res.destroyed || res.headersSent) return;
  // After a refused body the rest of it is not read: close the connection once answered.
  const close = status === 413 || status === 408 ? { connection: 'close' } : {};
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...close });
  res.end(text);
}

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const { socket, routes, log } = options;
  await clearStale(socket);
  const busy = new WeakMap<Socket, number>();
  /** Node's HTTP server, made at the first connection; it never listens itself. */
  let http: Server | undefined;
  const httpServer = (): Server => {
    if (http) return http;
    const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');
    http = createServer(
      { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000, keepAliveTimeout: 1000 },
      (req, res) => {
        const socket = req.socket;
        busy.set(socket, (busy.get(socket) ?? 0) + 1);
        res.once('close', () => busy.set(socket, (busy.get(socket) ?? 1) - 1));
        void handle(routes, log, req, res);
      },
    );
    http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable) return void socket.destroy();
      const status =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? '431 Request Header Fields Too Large'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      socket.destroySoon();
    });
    // What a listening HTTP server does for itself: track its connections, so that the header and
    // request timeouts are enforced.
    http.emit('listening');
    return http;
  };
  const server = createNetServer();
  // Connections: at most `cap` at once (more get a 503 and are closed), idle ones closed.
  const cap = options.maxConnections ?? connectionCap();
  const open = new Set<Socket>();
  let refusedCount = 0;
  let lastCapLog = 0;
  server.on('connection', (socket: Socket) => {
    if (open.size >= cap) {
      refusedCount++;
      const now = Date.now();
      if (now - lastCapLog >= CAP_LOG_EVERY_MS) {
        lastCapLog = now;
        log.warn(
          { socket: options.socket, connections: open.size, refused: refusedCount },
          `control socket: ${open.size} connections open, the most it takes (${cap}); refusing more with 503 (${refusedCount} so far)`,
        );
      }
      // Answer and half-close; read (and drop) what the client still sends, so it gets the
      // answer rather than a broken pipe; gone when the client closes, or after a second.
      socket.on('error', () => undefined);
      socket.on('data', () => undefined);
      socket.end(BUSY_REPLY);
      socket.once('end', () => socket.destroy());
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.setTimeout(IDLE_TIMEOUT_MS, () => {
      if ((busy.get(socket) ?? 0) === 0) socket.destroy();
    });
    httpServer().emit('connection', socket);
  });
  // Created owner-only, then opened up to the configured mode: never briefly world-accessible.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ path: socket, backlog: BACKLOG }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (cause) {
    throw new PilotfishError('PF_CONTROL_SOCKET', `cannot listen on ${socket}: ${errorMessage(cause)}`, { cause });
  } finally {
    process.umask(umask);
  }
  if (options.gid !== undefined) chownSync(socket, -1, options.gid);
  chmodSync(socket, options.mode);
  const ino = lstatSync(socket).ino;
  server.on('error', (err) => log.error({ err }, 'control socket error'));
  log.info({ socket, mode: `0${options.mode.toString(8)}` }, 'control socket listening');
  return {
    socket,
    async close() {
      // Closing unlinks the socket; if it is still there and still ours, remove it. A socket
      // another Pilotfish has put at the same path since is left alone.
      const ours = lstatSync(socket, { throwIfNoEntry: false })?.ino === ino;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Every connection the HTTP server has came through `open`.
        for (const socket of open) socket.destroy();
      });
      http?.close(); // its connection-checking timer
      if (ours) {
        try {
          unlinkSync(socket);
        } catch {
          // gone meanwhile
        }
      }
    },
  };
}
