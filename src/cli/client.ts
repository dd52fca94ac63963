/**
 * The control-socket client the CLI commands share: one JSON request over the unix socket,
 * with errors that say what to check (is Pilotfish running? is --socket right? permissions?).
 */
import { request } from 'node:http';
import { socketPath } from '../control/config.js';
import { PilotfishError, UsageError, errorMessage } from '../kernel/errors.js';
import { parse } from './args.js';

export interface Reply<T = unknown> {
  status: number;
  body: T;
}

const TIMEOUT_MS = 10 * 60_000; // a reload or job stop waits for stop timeouts

function unreachable(socket: string, error: NodeJS.ErrnoException): PilotfishError {
  const hint = 'is pilotfish running? is --socket (or $PILOTFISH_SOCKET) right?';
  switch (error.code) {
    case 'ENOENT':
      return new PilotfishError('PF_CONTROL_UNREACHABLE', `no control socket at ${socket}: ${hint}`, { cause: error });
    case 'ECONNREFUSED':
      return new PilotfishError('PF_CONTROL_UNREACHABLE', `nothing answers on ${socket} (a stale socket): ${hint}`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new PilotfishError(
        'PF_CONTROL_DENIED',
        `permission denied on ${socket}: run this as the socket's owner, or give your group access with control.group and control.mode "0660"`,
        { cause: error },
      );
    default:
      return new PilotfishError('PF_CONTROL_UNREACHABLE', `cannot talk to ${socket}: ${errorMessage(error)}`, { cause: error });
  }
}

/** Send one request; resolves with any HTTP status, rejects only when the socket cannot be reached. */
export function call<T = unknown>(socket: string, method: string, path: string, body?: unknown): Promise<Reply<T>> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(unreachable(socket, e)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
          } catch {
            reject(new PilotfishError('PF_CONTROL_FAILED', `unexpected reply from ${socket} (not Pilotfish?): ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no reply within ${TIMEOUT_MS / 1000}s`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(unreachable(socket, e)));
    req.end(payload);
  });
}

/** Like {@link call}, but a non-2xx reply becomes an error carrying the server's message. */
export async function expectOk<T = unknown>(socket: string, method: string, path: string, body?: unknown): Promise<T> {
  const reply = await call<T & { error?: { message: string } }>(socket, method, path, body);
  if (reply.status >= 200 && reply.status < 300) return reply.body;
  throw new PilotfishError('PF_CONTROL_FAILED', reply.body.error?.message ?? `HTTP ${reply.status}`);
}

/** Parse a command's arguments, adding the common `--socket` option. */
export function parseControl<T extends Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>>(
  argv: string[],
  options: T,
  usage: string,
) {
  const parsed = parse(argv, { socket: { type: 'string' }, ...options }, usage, true);
  return { ...parsed, socket: socketPath((parsed.values as { socket?: string }).socket) };
}

/** `K=V` arguments → an object; a missing `=` is a usage error. */
export function keyValues(args: string[], usage: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (args.length === 0) throw new UsageError(`nothing to set\nusage: ${usage}`);
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`expected KEY=VALUE, got "${arg}"\nusage: ${usage}`);
    out[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  return out;
}

/** Print a reply: JSON when asked or piped, else the given human form. */
export function print(value: unknown, json: boolean, human?: () => string): void {
  process.stdout.write(json || !human || !process.stdout.isTTY ? `${JSON.stringify(value, null, 2)}\n` : human());
}
