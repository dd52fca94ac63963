/** Small clients of the real Consul and Vault HTTP APIs for the end-to-end tests. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { services } from '../helpers/services.js';

async function call(url: string, init: RequestInit): Promise<Response> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

function consul(path: string): string {
  const addr = services().CONSUL_HTTP_ADDR;
  return `${addr.startsWith('http') ? addr : `http://${addr}`}${path}`;
}

export async function kvPut(key: string, value: string): Promise<void> {
  await call(consul(`/v1/kv/${key}`), { method: 'PUT', body: value });
}

export async function kvDeleteTree(prefix: string): Promise<void> {
  await call(consul(`/v1/kv/${prefix}?recurse=true`), { method: 'DELETE' });
}

export interface ServiceDef {
  id: string;
  name: string;
  address: string;
  port: number;
  tags?: string[];
}

/** Registers a service on the agent (no check: Consul counts it as passing). */
export async function registerService(s: ServiceDef): Promise<void> {
  await call(consul('/v1/agent/service/register'), {
    method: 'PUT',
    body: JSON.stringify({ ID: s.id, Name: s.name, Address: s.address, Port: s.port, Tags: s.tags ?? [] }),
  });
}

export async function deregisterService(id: string): Promise<void> {
  await call(consul(`/v1/agent/service/deregister/${id}`), { method: 'PUT' });
}

/** Writes a KV v2 secret at secret/<path>. */
export async function vaultPut(path: string, data: Record<string, string>): Promise<void> {
  const { VAULT_ADDR, VAULT_TOKEN } = services();
  await call(`${VAULT_ADDR}/v1/secret/data/${path}`, {
    method: 'POST',
    headers: { 'X-Vault-Token': VAULT_TOKEN, 'content-type': 'application/json' },
    body: JSON.stringify({ data }),
  });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** The S3 environment of the services, for Pilotfish's backup store. */
export function s3Env(): Record<string, string> {
  const s = services();
  return {
    AWS_ENDPOINT_URL_S3: s.AWS_ENDPOINT_URL_S3,
    AWS_ACCESS_KEY_ID: s.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: s.AWS_SECRET_ACCESS_KEY,
    AWS_REGION: s.AWS_REGION,
  };
}

const made: string[] = [];

/** A temp dir for one "container"; removed by removeTempDirs() (kept with PILOTFISH_KEEP_E2E=1). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Call after the instances are dead: MariaDB datadirs are over 100 MB each. */
export function removeTempDirs(): void {
  if (process.env.PILOTFISH_KEEP_E2E === '1') return;
  // A killed namespace's last processes may still be exiting: retry (ENOTEMPTY), never fail a test on it.
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch (error) {
      console.warn(`could not remove ${dir}: ${(error as Error).message}`);
    }
  }
}

/**
 * Makes a service on the host's loopback (Vault, MinIO) reachable from network namespaces:
 * listens on `host` (e.g. the bridge's gateway address), any free port, and pipes every
 * connection to the URL's host and port. Returns the URL to use from inside the namespaces.
 */
export async function forwardTcp(host: string, target: string): Promise<{ url: string; close(): Promise<void> }> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(to.port), to.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${to.protocol}//${host}:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
