/**
 * The backup encryption key from a Vault secret: `backup.encryption.key: {vault: {secret, field}}`,
 * where `secret` names a `vault.secrets` entry. The key is read through the running Vault
 * subsystem (which starts before backup), so it shares the session, its renewal and its redaction.
 */
import { decodeKey, type KeySource } from '../backup/keys.js';
import { PilotfishError } from '../core/errors.js';
import type { VaultKeyConfig } from './config.js';
import { runningVault } from './subsystem.js';

export function vaultKeySource(config: VaultKeyConfig): KeySource {
  const where = `vault secret ${config.secret}#${config.field}`;
  return {
    describe: where,
    async load() {
      const vault = runningVault();
      if (!vault)
        throw new PilotfishError(
          'PF_BACKUP_KEY',
          `the backup key comes from ${where}, but no Vault subsystem is running in this process; run this from the running Pilotfish (its vault: section starts before backup)`,
        );
      await vault.ready;
      if (!vault.config.secrets.some((s) => s.name === config.secret))
        throw new PilotfishError('PF_BACKUP_KEY', `the backup key names secret "${config.secret}", which is not in vault.secrets`);
      const value = vault.getSecret(config.secret, config.field);
      if (value === undefined) throw new PilotfishError('PF_BACKUP_KEY', `${where}: the secret has no field "${config.field}"`);
      return decodeKey(Buffer.from(value, 'utf8'), where);
    },
  };
}
