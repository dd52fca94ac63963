/**
 * The backup encryption key from a Vault secret: `backup.encryption.key: {vault: {secret, field}}`,
 * where `secret` names a `vault.secrets` entry. Inside a running Pilotfish the key is read
 * through its Vault subsystem (which starts before backup), so it shares the session, its
 * renewal and its redaction. A standalone command (`pilotfish backup --direct`, `restore`,
 * `snapshots`) has no running subsystem: it logs in with the same `vault:` section, reads that
 * one secret, and stops its session. The S3 store's credentials can come from Vault the same way.
 */
import { decodeKey, type KeySource } from '../backup/keys.js';
import { errorMessage, PilotfishError, type ErrorCode } from '../kernel/errors.js';
import { createLogger, type Logger } from '../kernel/logger.js';
import { createAuthenticator } from './auth.js';
import { VaultClient } from './client.js';
import type { VaultConfig, VaultKeyConfig } from './config.js';
import { readSecret } from './secrets.js';
import { VaultSession } from './session.js';
import { runningVault } from './subsystem.js';

export function vaultKeySource(config: VaultKeyConfig, section: VaultConfig | undefined, log?: Logger): KeySource {
  const where = `vault secret ${config.secret}#${config.field}`;
  return {
    describe: where,
    async load() {
      const value = (await readVaultSecret(config.secret, section, log, { what: 'the backup key', code: 'PF_BACKUP_KEY' }))[config.field];
      if (value === undefined) throw new PilotfishError('PF_BACKUP_KEY', `${where}: the secret has no field "${config.field}"`);
      return decodeKey(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8'), where);
    },
  };
}

/** Which fields of a Vault secret hold the S3 credentials (`backup.store.s3.credentials.vault`). */
export interface VaultS3Credentials {
  secret: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** How long the AWS SDK keeps credentials before asking again (and so sees a rotation). */
const CREDENTIALS_REFRESH_MS = 60_000;

/**
 * An AWS SDK credentials provider over a Vault secret: static keys in KV, or the AWS secrets
 * engine's dynamic ones (`aws/creds/<role>`: access_key, secret_key, security_token). The SDK
 * asks again every minute, so a rotated secret is picked up.
 */
export function vaultS3Credentials(config: VaultS3Credentials, section: VaultConfig | undefined, log?: Logger) {
  return async (): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration: Date }> => {
    const data = await readVaultSecret(config.secret, section, log, { what: 'the S3 credentials', code: 'PF_BACKUP_STORE' });
    const field = (name: string): string | undefined => (typeof data[name] === 'string' && data[name] !== '' ? (data[name] as string) : undefined);
    const accessKeyId = field(config.accessKeyId);
    const secretAccessKey = field(config.secretAccessKey);
    if (!accessKeyId || !secretAccessKey)
      throw new PilotfishError('PF_BACKUP_STORE', `the S3 credentials from vault secret ${config.secret} need the fields "${config.accessKeyId}" and "${config.secretAccessKey}"`);
    const sessionToken = field(config.sessionToken);
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}), expiration: new Date(Date.now() + CREDENTIALS_REFRESH_MS) };
  };
}

/** One-shot readings of this process (a standalone command lives for one backup or restore). */
const oneShot = new Map<string, Promise<Readonly<Record<string, unknown>>>>();

/**
 * A `vault.secrets` entry's current data: from the running Vault subsystem (its last good value),
 * else read once with the config's `vault:` section.
 */
export async function readVaultSecret(
  name: string,
  section: VaultConfig | undefined,
  log: Logger | undefined,
  { what, code }: { what: string; code: ErrorCode },
): Promise<Readonly<Record<string, unknown>>> {
  const fail = (message: string, cause?: unknown): PilotfishError => new PilotfishError(code, message, cause === undefined ? undefined : { cause });
  const vault = runningVault();
  if (vault) {
    await vault.ready;
    const data = vault.getSecretData(name);
    if (!data) throw fail(`${what} names vault secret "${name}", which is not in vault.secrets`);
    return data;
  }
  if (!section) throw fail(`${what} comes from vault secret "${name}", but the config has no vault: section`);
  const secret = section.secrets.find((s) => s.name === name);
  if (!secret) throw fail(`${what} names vault secret "${name}", which is not in vault.secrets`);
  let reading = oneShot.get(name);
  if (!reading) {
    reading = readOnce(section, secret, log);
    oneShot.set(name, reading);
    reading.catch(() => oneShot.delete(name));
  }
  return reading.catch((error: unknown) => {
    throw fail(`cannot read ${what} from vault secret "${name}": ${errorMessage(error)}`, error);
  });
}

/** Log in, read one secret, end the session (no renewal loop is left behind). */
async function readOnce(section: VaultConfig, secret: VaultConfig['secrets'][number], log: Logger | undefined): Promise<Readonly<Record<string, unknown>>> {
  const address = section.address ?? process.env.VAULT_ADDR;
  if (!address) throw new Error('no Vault address (set vault.address or $VAULT_ADDR)');
  const client = new VaultClient({ address, namespace: section.namespace, caFile: section.caFile, timeout: section.timeout, retry: section.retry });
  const quiet = log ?? createLogger({ level: 'silent' });
  const session = new VaultSession(client, createAuthenticator(section.auth, process.env), { renewAt: section.renewAt, backoff: section.retry.backoff, log: quiet });
  try {
    await session.start();
    return (await session.run(() => readSecret(client, secret))).data;
  } finally {
    session.stop();
    client.close();
  }
}
