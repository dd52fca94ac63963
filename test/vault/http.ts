// Test setup against the real Vault with its root token: policies, AppRoles, KV writes, revocation.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { services } from '../helpers/services.js';

export async function vaultApi(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const { VAULT_ADDR, VAULT_TOKEN } = services();
  const res = await fetch(`${VAULT_ADDR}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': VAULT_TOKEN, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`vault ${method} ${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, any>) : {};
}

export const unique = (prefix: string): string => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

export async function kvPut(path: string, data: Record<string, string>): Promise<number> {
  const [mount, ...rest] = path.split('/');
  const out = await vaultApi('POST', `${mount}/data/${rest.join('/')}`, { data });
  return out.data.version as number;
}

export async function setPolicy(name: string, paths: string[]): Promise<void> {
  const policy = paths.map((p) => `path "${p}" { capabilities = ["read"] }`).join('\n');
  await vaultApi('PUT', `sys/policies/acl/${name}`, { policy });
}

export interface AppRole {
  dir: string;
  roleIdFile: string;
  secretIdFile: string;
  roleId: string;
  secretId: string;
}

/** An AppRole with these policies and token TTLs; role_id and secret_id written to files (0600). */
export async function createAppRole(name: string, policies: string[], ttl = '1h', maxTtl = '4h'): Promise<AppRole> {
  await vaultApi('POST', `auth/approle/role/${name}`, { token_policies: policies, token_ttl: ttl, token_max_ttl: maxTtl });
  const roleId = (await vaultApi('GET', `auth/approle/role/${name}/role-id`)).data.role_id as string;
  const secretId = (await vaultApi('POST', `auth/approle/role/${name}/secret-id`, {})).data.secret_id as string;
  const dir = mkdtempSync(join(tmpdir(), 'pf-vault-'));
  const roleIdFile = join(dir, 'role-id');
  const secretIdFile = join(dir, 'secret-id');
  writeFileSync(roleIdFile, roleId, { mode: 0o600 });
  writeFileSync(secretIdFile, secretId, { mode: 0o600 });
  return { dir, roleIdFile, secretIdFile, roleId, secretId };
}

/** A response-wrapped secret_id (a single-use wrapping token). */
export async function wrappedSecretId(role: string): Promise<string> {
  const { VAULT_ADDR, VAULT_TOKEN } = services();
  const res = await fetch(`${VAULT_ADDR}/v1/auth/approle/role/${role}/secret-id`, {
    method: 'POST',
    headers: { 'X-Vault-Token': VAULT_TOKEN, 'X-Vault-Wrap-TTL': '120s' },
  });
  const body = (await res.json()) as { wrap_info: { token: string } };
  return body.wrap_info.token;
}

/** The accessors of live tokens issued by an AppRole role. */
export async function accessorsOf(role: string): Promise<string[]> {
  const list = (await vaultApi('LIST', 'auth/token/accessors')).data.keys as string[];
  const out: string[] = [];
  for (const accessor of list) {
    try {
      const info = await vaultApi('POST', 'auth/token/lookup-accessor', { accessor });
      if (info.data.meta?.role_name === role) out.push(accessor);
    } catch {
      // revoked meanwhile
    }
  }
  return out;
}

export async function revokeAccessor(accessor: string): Promise<void> {
  await vaultApi('POST', 'auth/token/revoke-accessor', { accessor });
}
