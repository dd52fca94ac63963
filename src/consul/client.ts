/**
 * The one place that talks to the `consul` npm client (v2, CommonJS): building it from the
 * config, blocking queries with a hard request timeout and cancellation, error classification,
 * and the start-up wait with backoff.
 */
import { EventEmitter } from 'node:events';
import Consul from 'consul';
import { PilotfishError, errorMessage } from '../kernel/errors.js';
import { redactor } from '../kernel/redact.js';
import type { ConsulConfig } from './config.js';
import { resolveEndpoint, type Endpoint } from './endpoint.js';

export { resolveEndpoint, type Endpoint };
import { delay, nextDelay } from '../kernel/backoff.js';

export type ConsulClient = InstanceType<typeof Consul>;

export function createClient(config: ConsulConfig, env: NodeJS.ProcessEnv = process.env): { client: ConsulClient; endpoint: Endpoint } {
  const endpoint = resolveEndpoint(config, env);
  const token = config.token ?? env.CONSUL_HTTP_TOKEN;
  if (token) redactor.add(token);
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const client = new Consul({
    host,
    port: endpoint.port,
    secure: endpoint.secure,
    defaults: {
      ...(token ? { token } : {}),
      ...(config.datacenter ? { dc: config.datacenter } : {}),
      // papi applies it to every request that sets none itself: nothing can hang forever.
      timeout: config.requestTimeout,
    } as never,
  });
  return { client, endpoint };
}

/** A cancellable request context for papi: `cancel()` aborts the request in flight. */
export class RequestContext extends EventEmitter {
  /** papi hands back [response, body] when set, so headers (X-Consul-Index) are visible. */
  readonly includeResponse = true;
  canceled = false;

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.emit('cancel');
  }
}

export interface BlockingResult<T> {
  body: T | undefined;
  index: number;
  status: number;
}

interface RawResponse {
  statusCode?: number;
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * Run one (blocking) read. `call` gets the options to pass to the client method; the result
 * carries the body and X-Consul-Index (0 when absent).
 */
export async function blockingRead<T>(
  call: (opts: Record<string, unknown>) => Promise<unknown>,
  opts: { index?: number; waitMs?: number; ctx: RequestContext; timeoutMs: number },
): Promise<BlockingResult<T>> {
  const query: Record<string, unknown> = { ctx: opts.ctx, timeout: opts.timeoutMs };
  if (opts.index !== undefined && opts.index > 0) {
    query.index = String(opts.index);
    query.wait = `${Math.max(1, Math.round((opts.waitMs ?? 60_000) / 1000))}s`;
  }
  const out = (await call(query)) as [RawResponse, T?] | undefined;
  const res = Array.isArray(out) ? out[0] : undefined;
  const header = res?.headers?.['x-consul-index'];
  const index = Number(Array.isArray(header) ? header[0] : (header ?? 0)) || 0;
  return { body: Array.isArray(out) ? out[1] : undefined, index, status: res?.statusCode ?? 200 };
}

/** The HTTP status of a failed request, if the server answered. */
export function statusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: number; response?: { statusCode?: number } };
  return e?.statusCode ?? e?.response?.statusCode;
}

/** True when the agent no longer knows a check or service: it restarted or lost its data. */
export function isLostRegistration(err: unknown): boolean {
  const status = statusOf(err);
  const text = errorMessage(err);
  return status === 404 || /unknown (check|service)|does not have associated TTL|not found/i.test(text);
}

/** A short, secret-free reason for a log line. */
export function reasonOf(err: unknown): string {
  const e = err as { code?: string; statusCode?: number };
  const msg = errorMessage(err).replace(/^consul: /, '');
  return e?.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}

/** Retrying Consul: 250 ms doubling to 10 s, with jitter (kernel/backoff.ts's one formula). */
export function backoff(attempt: number, initial = 250, max = 10_000): number {
  return nextDelay(attempt, { initial, max, factor: 2 });
}

/**
 * Wait for the agent to answer (a leader is known), retrying with backoff until `timeoutMs`.
 * Throws PF_CONSUL_UNAVAILABLE with the address and the last reason.
 */
export async function waitForConsul(
  client: ConsulClient,
  endpoint: Endpoint,
  timeoutMs: number,
  onRetry: (reason: string, attempt: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let attempt = 0;
  let reason: string;
  for (;;) {
    try {
      const leader = (await client.status.leader({ timeout: Math.min(5000, Math.max(500, timeoutMs)) } as never)) as unknown;
      if (typeof leader === 'string' && leader.length > 0) return;
      reason = 'the agent answers but knows no cluster leader yet';
    } catch (error) {
      reason = reasonOf(error);
    }
    if (signal?.aborted) reason = 'start-up was cancelled';
    const left = deadline - Date.now();
    if (left <= 0 || signal?.aborted) {
      throw new PilotfishError(
        'PF_CONSUL_UNAVAILABLE',
        `cannot reach Consul at ${endpoint.address} after ${Math.round(timeoutMs / 1000)}s: ${reason}. ` +
          'Check consul.address (or CONSUL_HTTP_ADDR), raise consul.startup.timeout, or set consul.startup.optional: true to start without it.',
      );
    }
    onRetry(reason, attempt);
    await delay(Math.min(backoff(attempt++), left), signal);
  }
}
