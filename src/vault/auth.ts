/**
 * Authentication methods: each turns its credentials into a token. Every credential is given to
 * the redactor the moment it is read (tokens, role_ids, secret_ids, wrapping tokens, JWTs).
 */
import { readFile } from 'node:fs/promises';
import { PilotfishError } from '../kernel/errors.js';
import { redactor } from '../kernel/redact.js';
import type { VaultClient } from './client.js';
import type { AuthConfig } from './config.js';

export interface LoginResult {
  token: string;
  /** 0: the token does not expire. */
  ttlMs: number;
  renewable: boolean;
  policies: string[];
}

export interface Authenticator {
  /** For logs and status: token, tokenFile, approle, kubernetes, jwt. */
  readonly method: string;
  /** Where the credentials come from, safe to log (an env name, a file path, a mount). */
  readonly describe: string;
  /** Whether logging in again can yield a new token (a fixed token cannot). */
  readonly canRelogin: boolean;
  login(client: VaultClient): Promise<LoginResult>;
  /** Files whose change should trigger a new login (tokenFile). */
  readonly watchFiles: string[];
}

/** Read a credential file, trimmed, and register its content as a secret at once. */
async function readSecretFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    throw new PilotfishError('PF_VAULT_AUTH', `cannot read the ${what} file ${path}: ${reason}`);
  }
  redactor.add(text);
  if (!text) throw new PilotfishError('PF_VAULT_AUTH', `the ${what} file ${path} is empty`);
  return text;
}

function fromAuth(body: Record<string, unknown>, where: string): LoginResult {
  const auth = body.auth as { client_token?: string; lease_duration?: number; renewable?: boolean; policies?: string[] } | undefined;
  if (!auth?.client_token) throw new PilotfishError('PF_VAULT_AUTH', `${where} answered without a token`);
  redactor.add(auth.client_token);
  return { token: auth.client_token, ttlMs: (auth.lease_duration ?? 0) * 1000, renewable: auth.renewable ?? false, policies: auth.policies ?? [] };
}

/** A token we were given: look it up to learn its TTL. */
async function useToken(client: VaultClient, token: string, where: string): Promise<LoginResult> {
  client.token = token;
  let data: { ttl?: number; renewable?: boolean; policies?: string[] };
  try {
    data = (await client.tokenLookupSelf()).data ?? {};
  } catch (error) {
    if ((error as { denied?: boolean }).denied)
      throw new PilotfishError('PF_VAULT_AUTH', `the Vault token from ${where} is invalid, expired or revoked (${(error as Error).message})`);
    throw error;
  }
  return { token, ttlMs: (data.ttl ?? 0) * 1000, renewable: data.renewable ?? false, policies: data.policies ?? [] };
}

export function createAuthenticator(config: AuthConfig, env: NodeJS.ProcessEnv): Authenticator {
  if ('token' in config) {
    const name = config.token.env;
    let token: string | undefined;
    return {
      method: 'token',
      describe: `$${name}`,
      canRelogin: false,
      watchFiles: [],
      async login(client) {
        // Read once, then taken out of the environment: children inherit Pilotfish's environment,
        // and none of them should get its Vault token.
        token ??= env[name]?.trim();
        delete env[name];
        if (!token) throw new PilotfishError('PF_VAULT_AUTH', `no Vault token: $${name} is not set (or use vault.auth.approle, tokenFile, kubernetes or jwt)`);
        redactor.add(token);
        return useToken(client, token, `$${name}`);
      },
    };
  }
  if ('tokenFile' in config) {
    const { path } = config.tokenFile;
    return {
      method: 'tokenFile',
      describe: path,
      canRelogin: true, // the file may hold a new token by now
      watchFiles: [path],
      async login(client) {
        return useToken(client, await readSecretFile(path, 'Vault token'), `the file ${path}`);
      },
    };
  }
  if ('approle' in config) {
    const a = config.approle;
    let unwrapped: { wrapper: string; secretId: string } | undefined;
    return {
      method: 'approle',
      describe: `auth/${a.mount}`,
      canRelogin: true,
      watchFiles: [],
      async login(client) {
        const roleId = a.roleId ?? (await readSecretFile(a.roleIdFile as string, 'AppRole role_id'));
        redactor.add(roleId);
        let secretId: string | undefined;
        if (a.secretIdFile !== undefined) {
          const text = await readSecretFile(a.secretIdFile, a.wrapped ? 'wrapped secret_id' : 'AppRole secret_id');
          if (!a.wrapped) secretId = text;
          else if (unwrapped?.wrapper === text)
            secretId = unwrapped.secretId; // a wrapping token works once
          else {
            const body = await client.unwrap(text);
            const data = body.data as { secret_id?: string } | undefined;
            if (!data?.secret_id) throw new PilotfishError('PF_VAULT_AUTH', `the wrapping token in ${a.secretIdFile} did not wrap a secret_id`);
            redactor.add(data.secret_id);
            unwrapped = { wrapper: text, secretId: data.secret_id };
            secretId = data.secret_id;
          }
        }
        return fromAuth(await client.approleLogin(a.mount, roleId, secretId), `auth/${a.mount}/login`);
      },
    };
  }
  const k = 'kubernetes' in config ? { kind: 'kubernetes' as const, ...config.kubernetes } : { kind: 'jwt' as const, ...config.jwt };
  return {
    method: k.kind,
    describe: `auth/${k.mount} (role ${k.role})`,
    canRelogin: true,
    watchFiles: [],
    async login(client) {
      const jwt = await readSecretFile(k.jwtFile, k.kind === 'kubernetes' ? 'service account token' : 'JWT');
      const body = k.kind === 'kubernetes' ? await client.kubernetesLogin(k.mount, k.role, jwt) : await client.jwtLogin(k.mount, k.role, jwt);
      return fromAuth(body, `auth/${k.mount}/login`);
    },
  };
}
