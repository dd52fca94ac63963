/**
 * The telemetry subsystem: Prometheus `/metrics` and a JSON `/status` over TCP, the built-in
 * metrics, and user-declared metrics fed through the control plane (`pilotfish putmetric`).
 */
import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { ControlError } from '../subsystem/routes.js';
import { errorMessage, PilotfishError } from '../kernel/errors.js';
import type { Subsystem, SubsystemContext } from '../subsystem/contract.js';
import { registerBuiltins } from './collectors.js';
import { fullMetricName, type TelemetryConfig } from './config.js';
import type { Metrics } from '../subsystem/metrics.js';
import { CONTENT_TYPE, counter, exposition, gauge, prometheusSink, unregister, type Counter, type Gauge } from './metrics.js';

/** The address to listen on: `interface`'s first IPv4 address, else `address`, else all. */
export function listenAddress(config: Pick<TelemetryConfig, 'address' | 'interface'>): string {
  if (config.interface === undefined) return config.address ?? '0.0.0.0';
  const addrs = networkInterfaces()[config.interface];
  const v4 = addrs?.find((a) => a.family === 'IPv4');
  if (!v4) {
    const known = Object.keys(networkInterfaces()).join(', ');
    throw new PilotfishError('PF_TELEMETRY_LISTEN', `network interface "${config.interface}" has no IPv4 address (interfaces: ${known})`);
  }
  return v4.address;
}

export class TelemetrySubsystem implements Subsystem {
  readonly name = 'telemetry';
  #server: Server | undefined;
  #cleanup: Array<() => void> = [];
  #custom = new Map<string, { type: 'counter' | 'gauge'; metric: Counter | Gauge }>();
  #address = '';

  /** The sink the top hands to the other subsystems: this registry. */
  readonly metrics: Metrics = prometheusSink();

  constructor(private readonly config: TelemetryConfig) {}

  async start(ctx: SubsystemContext): Promise<void> {
    this.#cleanup.push(registerBuiltins(ctx));
    for (const m of this.config.metrics) {
      const name = fullMetricName(m);
      const metric = m.type === 'counter' ? counter(name, m.help, { internal: false }) : gauge(name, m.help, { internal: false });
      this.#custom.set(name, { type: m.type, metric });
      this.#cleanup.push(() => unregister(name));
    }
    this.#cleanup.push(ctx.routes.add('POST', '/v1/metric', (req) => this.#put(req.body)));

    const host = listenAddress(this.config);
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const reply = (status: number, type: string, body: string): void => {
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'GET only\n');
      if (path === '/metrics') {
        exposition().then(
          (text) => reply(200, CONTENT_TYPE, text),
          (error: unknown) => reply(500, 'text/plain', `${errorMessage(error)}\n`),
        );
      } else if (path === '/status') {
        reply(200, 'application/json', `${JSON.stringify(ctx.control.status())}\n`);
      } else reply(404, 'text/plain', 'try /metrics or /status\n');
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (cause) =>
        reject(
          new PilotfishError('PF_TELEMETRY_LISTEN', `cannot listen on ${host}:${this.config.port}: ${errorMessage(cause)}; change telemetry.port`, { cause }),
        ),
      );
      server.listen(this.config.port, host, () => resolve());
    });
    this.#server = server;
    const bound = server.address();
    this.#address = typeof bound === 'object' && bound ? `${bound.address}:${bound.port}` : `${host}:${this.config.port}`;
    ctx.log.info({ address: this.#address }, 'telemetry listening');
  }

  /** `{name: value, ...}`: counters add the value, gauges take it. */
  #put(body: Record<string, unknown>): unknown {
    const entries = Object.entries(body);
    if (entries.length === 0) throw new ControlError(400, 'send a JSON object of metric values: {"name": 1.5}');
    const updates: Array<() => void> = [];
    for (const [name, raw] of entries) {
      const custom = this.#custom.get(name);
      if (!custom) {
        const declared = [...this.#custom.keys()].join(', ') || 'none';
        throw new ControlError(404, `no metric named "${name}" is declared in telemetry.metrics (declared: ${declared})`);
      }
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(value)) throw new ControlError(400, `the value of ${name} must be a number`);
      if (custom.type === 'counter' && value < 0) throw new ControlError(400, `${name} is a counter: its value can only grow (got ${value})`);
      updates.push(() => (custom.type === 'counter' ? (custom.metric as Counter).inc(value) : (custom.metric as Gauge).set(value)));
    }
    for (const update of updates) update(); // all or nothing
    return { updated: entries.map(([n]) => n) };
  }

  async stop(): Promise<void> {
    for (const undo of this.#cleanup.splice(0).reverse()) undo();
    this.#custom.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  status(): unknown {
    return { address: this.#address || null, metrics: [...this.#custom.keys()] };
  }
}

export function createTelemetry(config: TelemetryConfig): TelemetrySubsystem {
  return new TelemetrySubsystem(config);
}
