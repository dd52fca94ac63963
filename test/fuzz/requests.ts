/**
 * Control-socket request fuzzing: methods, paths (the routes Pilotfish lists, and near misses),
 * query strings and bodies (JSON of the wrong shapes, NUL bytes, sizes around the limits, not
 * JSON at all), sent over the real socket. Deterministic in its seed.
 */
import { request } from 'node:http';
import { Random } from './engine.js';

export interface FuzzRequest {
  method: string;
  path: string;
  body?: Buffer;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'get', 'BREW'];
const JOBS = ['app', 'tick', 'nope', '', '..', '%00', 'app%2F..', 'a'.repeat(300), '日本'];
const SIGNALS = ['SIGHUP', 'HUP', 'usr2', 'SIGUSR2', 'SIGWINCH', 'SIGNOPE', '', 0, null, ['SIGHUP'], { s: 1 }, 'SIG\u0000HUP'];
const VALUES: unknown[] = ['x', '', 'a\u0000b', 'x'.repeat(140_000), 'é', null, 1, true, [], {}, { a: 'b' }, '${A}'];
const KEYS = ['A', 'PATH', '_x', '1BAD', 'A-B', '', 'A=B', 'A\u0000', 'x'.repeat(200), '__proto__', 'constructor', 'PILOTFISH_JOB'];

function body(rnd: Random): Buffer | undefined {
  switch (rnd.int(9)) {
    case 0:
      return undefined;
    case 1:
      return Buffer.from(rnd.pick(['{', 'null', '[]', '"x"', '1', 'true', '{"a":', '\u0000', '{}{}', ' ']));
    case 2:
      return Buffer.from(JSON.stringify({ signal: rnd.pick(SIGNALS) }));
    case 3: {
      const o: Record<string, unknown> = {};
      for (let i = rnd.int(4); i >= 0; i--) o[rnd.pick(KEYS)] = rnd.pick(VALUES);
      return Buffer.from(JSON.stringify(o));
    }
    case 4:
      return Buffer.from(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    case 5:
      return Buffer.alloc(rnd.pick([1024 * 1024 - 1, 1024 * 1024 + 1, 3 * 1024 * 1024]), 0x20);
    case 6:
      return Buffer.from([0xff, 0xfe, 0x7b, 0x7d]);
    default:
      return Buffer.from(JSON.stringify({ [rnd.pick(KEYS)]: rnd.pick(VALUES), signal: rnd.pick(SIGNALS) }));
  }
}

/** `routes`: "METHOD /path" as GET /v1 lists them; the listed method is used most of the time. */
export function makeRequest(routes: readonly string[], seed: number): FuzzRequest {
  const rnd = new Random(seed);
  const [listed, pattern] = rnd.pick(routes).split(' ') as [string, string];
  let path = pattern.replace(':name', rnd.pick(JOBS));
  switch (rnd.int(6)) {
    case 0:
      path += `?${rnd.pick(['a=1', 'x=%ZZ', '&&&', `q=${'x'.repeat(5000)}`])}`;
      break;
    case 1:
      path = path.replace(/\/[^/]*$/, `/${rnd.pick(['', '..', '%2e%2e', 'x'.repeat(100), '%00'])}`);
      break;
    case 2:
      path = rnd.pick(['/', '//v1', '/v1/', '/v2/status', '*', `/${'a/'.repeat(500)}`]);
      break;
    default:
  }
  const b = body(rnd);
  return { method: rnd.chance(0.75) ? listed : rnd.pick(METHODS), path, ...(b ? { body: b } : {}) };
}

/** Sends one request; resolves with the status, or the client-side error code. */
export function send(socket: string, r: FuzzRequest): Promise<string> {
  return new Promise((resolve) => {
    let req;
    try {
      req = request(
        { socketPath: socket, method: r.method, path: r.path, agent: false, timeout: 30_000, headers: r.body ? { 'content-length': r.body.length } : {} },
        (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
          res.on('error', () => resolve(String(res.statusCode)));
        },
      );
    } catch (error) {
      return resolve(`client:${(error as NodeJS.ErrnoException).code ?? 'throw'}`); // Node refuses to send it (bad method or path)
    }
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    req.end(r.body);
  });
}

/**
 * Outcomes that are fine: an answer below 500, Node refusing to send, or the connection closed
 * while the client was still writing a large body (the server answered a refusal first: 413, or
 * 400 for a request it cannot parse) or after a method HTTP does not have.
 */
export function acceptable(outcome: string, r: FuzzRequest): boolean {
  if (/^[1-4]\d\d$/.test(outcome) || outcome.startsWith('client:')) return true;
  const cut = outcome === 'EPIPE' || outcome === 'ECONNRESET';
  return cut && ((r.body?.length ?? 0) > 64 * 1024 || !/^(GET|POST|PUT|DELETE|PATCH|OPTIONS|HEAD)$/.test(r.method));
}
