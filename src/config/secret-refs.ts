/**
 * References to Vault secrets that other sections carry: a job's `secrets:` and
 * `onSecretChange:`, a backup key `{vault: {secret, field}}`. They live here, below every
 * concern, because jobs and backup may name a secret without knowing Vault; the top checks that
 * each name is a `vault.secrets` entry (top/config.ts).
 */
import * as v from 'valibot';
import { envName, nonEmpty, record, signalName, strictObject } from './types.js';

/** A job's `secrets:`: `{ENV_NAME: "secretName#field"}`. */
export const jobSecretsSchema = v.optional(
  v.pipe(
    record(envName, v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*#.+$/, 'expected "secretName#field"'))),
    v.description('Environment variables from Vault secrets: {DB_PASSWORD: "db#password"}. The job gets only these.'),
  ),
);

/** A job's reaction when one of its secrets (env or file) changes. */
export const onSecretChangeSchema = v.optional(
  v.pipe(
    v.union([strictObject({ signal: signalName }), strictObject({ restart: v.literal(true) })], 'expected {signal: SIGHUP} or {restart: true}'),
    v.description('When a secret this job uses changes: send it a signal, or restart it (new environment).'),
  ),
);

/** The backup key source `{vault: {secret, field}}` (see src/backup/keys.ts). */
export const vaultKeySchema = strictObject({
  vault: v.pipe(strictObject({ secret: nonEmpty, field: nonEmpty }), v.description('A field of a vault.secrets entry.')),
});

/** `db#password` → {secret: 'db', field: 'password'}. */
export function parseSecretRef(ref: string): { secret: string; field: string | undefined } {
  const i = ref.indexOf('#');
  return i < 0 ? { secret: ref, field: undefined } : { secret: ref.slice(0, i), field: ref.slice(i + 1) };
}
