/** Where the Consul agent is: the consul: section's address, else $CONSUL_HTTP_ADDR, else 127.0.0.1:8500. */
import { PilotfishError } from '../kernel/errors.js';
import type { ConsulConfig } from './config.js';

export interface Endpoint {
  /** For messages: scheme://host:port, never the token. */
  address: string;
  host: string;
  port: number;
  secure: boolean;
}

export function resolveEndpoint(config: ConsulConfig, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const raw = (config.address ?? env.CONSUL_HTTP_ADDR ?? '127.0.0.1:8500').trim();
  const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `${env.CONSUL_HTTP_SSL === 'true' ? 'https' : 'http'}://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (cause) {
    throw new PilotfishError('PF_CONSUL_CONFIG', `consul.address "${raw}" is not host:port or a URL`, { cause });
  }
  const secure = url.protocol === 'https:';
  const port = url.port ? Number(url.port) : secure ? 443 : 8500;
  return { address: `${url.protocol}//${url.hostname}:${port}`, host: url.hostname, port, secure };
}
