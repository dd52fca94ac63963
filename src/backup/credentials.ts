/**
 * The S3 store's credentials from a Vault secret (`backup.store.s3.credentials.vault`): static
 * keys in KV, or the AWS secrets engine's dynamic ones (`aws/creds/<role>`: access_key,
 * secret_key, security_token). Read through the SecretReader the top hands in; the AWS SDK asks
 * again every minute, so a rotated secret is picked up.
 */
import { PilotfishError } from '../kernel/errors.js';
import type { SecretReader } from '../subsystem/capabilities.js';

/** Which fields of the secret hold the credentials. */
export interface S3CredentialFields {
  secret: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** How long the AWS SDK keeps credentials before asking again (and so sees a rotation). */
const CREDENTIALS_REFRESH_MS = 60_000;

export function s3CredentialsFrom(fields: S3CredentialFields, secrets: SecretReader | undefined) {
  return async (): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration: Date }> => {
    if (!secrets)
      throw new PilotfishError('PF_BACKUP_STORE', `the S3 credentials come from vault secret "${fields.secret}", but the config has no vault: section`);
    const data = await secrets.read(fields.secret, { what: 'the S3 credentials', code: 'PF_BACKUP_STORE' });
    const field = (name: string): string | undefined => (typeof data[name] === 'string' && data[name] !== '' ? data[name] : undefined);
    const accessKeyId = field(fields.accessKeyId);
    const secretAccessKey = field(fields.secretAccessKey);
    if (!accessKeyId || !secretAccessKey)
      throw new PilotfishError(
        'PF_BACKUP_STORE',
        `the S3 credentials from vault secret ${fields.secret} need the fields "${fields.accessKeyId}" and "${fields.secretAccessKey}"`,
      );
    const sessionToken = field(fields.sessionToken);
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}), expiration: new Date(Date.now() + CREDENTIALS_REFRESH_MS) };
  };
}
