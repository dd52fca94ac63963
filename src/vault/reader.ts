/**
 * Reading a `vault.secrets` entry on behalf of another concern (Capabilities.secrets): the
 * backup key and the S3 credentials. Inside a running Pilotfish the Vault subsystem is the
 * reader (it shares its session, renewal and redaction: VaultSubsystem.reader). A standalone
 * command (`pilotfish backup --direct`, `restore`, `snapshots`) has no running subsystem: it
 * gets {@link oneShotReader}, which logs in with the same `vault:` section, reads the one secret
 * it is asked for, and ends its session.
 */
import type { SecretReader } from '../subsystem/capabilities.js';
import { errorMessage, PilotfishError } from '../kernel/errors.js';
import { createLogger, type Logger } from '../kernel/logger.js';
import { createAuthenticator } from './auth.js';
import { VaultClient } from './client.js';
import type { VaultConfig } from './config.js';
import { readSecret } from './secrets.js';
import { VaultSession } from './session.js';

/** A reader for a standalone command: one login per secret name, per process. */
export function oneShotReader(section: VaultConfig, log?: Logger): SecretReader {
  const readings = new Map<string, Promise<Readonly<Record<string, unknown>>>>();
  return {
    async read(name, { what, code }) {
      const secret = section.secrets.find((s) => s.name === name);
      if (!secret) throw new PilotfishError(code, `${what} names vault secret "${name}", which is not in vault.secrets`);
      let reading = readings.get(name);
      if (!reading) {
        reading = readOnce(section, secret, log);
        readings.set(name, reading);
        reading.catch(() => readings.delete(name));
      }
      return reading.catch((error: unknown) => {
        throw new PilotfishError(code, `cannot read ${what} from vault secret "${name}": ${errorMessage(error)}`, { cause: error });
      });
    },
  };
}

/** Log in, read one secret, end the session (no renewal loop is left behind). */
async function readOnce(section: VaultConfig, secret: VaultConfig['secrets'][number], log: Logger | undefined): Promise<Readonly<Record<string, unknown>>> {
  const address = section.address ?? process.env.VAULT_ADDR;
  if (!address) throw new Error('no Vault address (set vault.address or $VAULT_ADDR)');
  const client = new VaultClient({ address, namespace: section.namespace, caFile: section.caFile, timeout: section.timeout, retry: section.retry });
  const quiet = log ?? createLogger({ level: 'silent' });
  const session = new VaultSession(client, createAuthenticator(section.auth, process.env), {
    renewAt: section.renewAt,
    backoff: section.retry.backoff,
    log: quiet,
  });
  try {
    await session.start();
    return (await session.run(() => readSecret(client, secret))).data;
  } finally {
    session.stop();
    client.close();
  }
}
