/**
 * The control plane's route table. Any subsystem adds an endpoint in one line from its
 * `start(ctx)`: `ctx.routes.add('POST', '/v1/backup', () => service.backupNow())`.
 * Endpoints whose owner is absent are `reserve`d: they answer 404 with "<what> is not configured".
 */

import { PilotfishError, type ErrorCode } from '../kernel/errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ControlRequest {
  method: Method;
  path: string;
  /** `:name` segments of the route pattern. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body; `{}` when there is none. */
  body: Record<string, unknown>;
}

/** Returns the JSON response body (status 200), or throws a {@link ControlError}. */
export type ControlHandler = (req: ControlRequest) => unknown;

/** A refused control request: a PilotfishError with the HTTP status it is answered with; its message reaches the CLI user as is. */
export class ControlError extends PilotfishError {
  constructor(
    readonly status: number,
    message: string,
    code: ErrorCode = status === 404 ? 'PF_CONTROL_NOT_FOUND' : status === 400 ? 'PF_CONTROL_BAD_REQUEST' : 'PF_CONTROL_CONFLICT',
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ControlError';
  }
}

interface Route {
  method: Method;
  pattern: string;
  segments: string[];
  handler: ControlHandler;
}

export interface Match {
  handler: ControlHandler;
  params: Record<string, string>;
}

export class ControlRoutes {
  readonly #routes: Route[] = [];
  readonly #reserved: Array<{ method: Method; segments: string[]; what: string; hint: string }> = [];

  /** Add an endpoint; returns the function that removes it (for a subsystem's `stop`). */
  add(method: Method, pattern: string, handler: ControlHandler): () => void {
    const route: Route = { method, pattern, segments: split(pattern), handler };
    if (this.#routes.some((r) => r.method === method && r.pattern === pattern)) {
      throw new Error(`control route ${method} ${pattern} is already taken`);
    }
    this.#routes.push(route);
    return () => {
      const i = this.#routes.indexOf(route);
      if (i >= 0) this.#routes.splice(i, 1);
    };
  }

  /** Declare an endpoint another subsystem provides when configured. */
  reserve(method: Method, pattern: string, what: string, hint = ''): void {
    this.#reserved.push({ method, segments: split(pattern), what, hint });
  }

  /** The handler for a request; throws 404/405 ControlErrors when there is none. */
  match(method: string, path: string): Match {
    const parts = split(path);
    let pathKnown = false;
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method) return { handler: route.handler, params };
      pathKnown = true;
    }
    for (const r of this.#reserved) {
      if (r.method === method && matchSegments(r.segments, parts)) {
        throw new ControlError(404, `${r.what} is not configured${r.hint ? `: ${r.hint}` : ''}`, 'PF_CONTROL_NOT_CONFIGURED');
      }
    }
    if (pathKnown) throw new ControlError(405, `${method} is not allowed on ${path}`, 'PF_CONTROL_METHOD');
    throw new ControlError(404, `no such endpoint: ${method} ${path}`);
  }

  /** `METHOD /pattern` of every live route, for docs and `GET /v1`. */
  list(): string[] {
    return this.#routes.map((r) => `${r.method} ${r.pattern}`);
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const v = parts[i] as string;
    if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(v);
    else if (p !== v) return undefined;
  }
  return params;
}
