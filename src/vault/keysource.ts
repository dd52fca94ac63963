/**
 * The backup encryption key from a Vault secret: `backup.encryption.key: {vault: {secret, field}}`,
 * where `secret` names a `vault.secrets` entry. Inside a running Pilotfish the key is read
 * through its Vault subsystem (which starts before backup), so it shares the session, its
 * renewal and its redaction. A standalone command (`pilotfish backup --direct`, `restore`,
 * `snapshots`) has no running subsystem: it logs in with the same `vault:` section, reads that
 * one secret, and stops its session.
 */
import { decodeKey, type KeySource } from '../backup/keys.js';
import { errorMessage, PilotfishError } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { createAuthenticator } from './auth.js';
import { VaultClient } from './client.js';
import type { VaultConfig, VaultKeyConfig } from './config.js';
import { readSecret } from './secrets.js';
import { VaultSession } from './session.js';
import { runningVault } from './subsystem.js';

export function vaultKeySource(config: VaultKeyConfig, section: VaultConfig | undefined, log?: Logger): KeySource {
  const where = `vault secret ${config.secret}#${config.field}`;
  const fail = (message: string, cause?: unknown): PilotfishError => new PilotfishError('PF_BACKUP_KEY', message, cause === undefined ? undefined : { cause });
  const key = (value: unknown): Buffer => {
    if (value === undefined) throw fail(`${where}: the secret has no field "${config.field}"`);
    return decodeKey(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8'), where);
  };
  return {
    describe: where,
    async load() {
      const vault = runningVault();
      if (vault) {
        await vault.ready;
        if (!vault.config.secrets.some((s) => s.name === config.secret))
          throw fail(`the backup key names secret "${config.secret}", which is not in vault.secrets`);
        return key(vault.getSecret(config.secret, config.field));
      }
      if (!section) throw fail(`the backup key comes from ${where}, but the config has no vault: section`);
      const secret = section.secrets.find((s) => s.name === config.secret);
      if (!secret) throw fail(`the backup key names secret "${config.secret}", which is not in vault.secrets`);
      const data = await readOnce(section, secret, log, where).catch((error: unknown) => {
        throw error instanceof PilotfishError && error.code === 'PF_BACKUP_KEY' ? error : fail(`cannot read the backup key from ${where}: ${errorMessage(error)}`, error);
      });
      return key(data[config.field]);
    },
  };
}

/** Log in, read one secret, log out of the session (no renewal loop is left behind). */
async function readOnce(section: VaultConfig, secret: VaultConfig['secrets'][number], log: Logger | undefined, where: string): Promise<Readonly<Record<string, unknown>>> {
  const address = section.address ?? process.env.VAULT_ADDR;
  if (!address) throw new PilotfishError('PF_BACKUP_KEY', `the backup key comes from ${where}: no Vault address (set vault.address or $VAULT_ADDR)`);
  const client = new VaultClient({ address, namespace: section.namespace, caFile: section.caFile, timeout: section.timeout, retry: section.retry });
  const quiet = log ?? (await import('../log/logger.js')).createLogger({ level: 'silent' });
  const session = new VaultSession(client, createAuthenticator(section.auth, process.env), { renewAt: section.renewAt, backoff: section.retry.backoff, log: quiet });
  try {
    await session.start();
    return (await session.run(() => readSecret(client, secret))).data;
  } finally {
    session.stop();
    client.close();
  }
}
