/**
 * `vault:` — the schema beside the Vault runtime (session, secrets, files). The references other
 * sections make to its secrets (a job's `secrets:`, a backup key) are in src/config/secret-refs.ts.
 *
 * Secret values never appear in a config: a token comes from an environment variable or a file,
 * an AppRole secret_id from a file, a JWT from a file.
 */
import { z } from 'zod';
import { boolLike, duration, intLike, name } from '../config/types.js';

export { parseSecretRef } from '../config/secret-refs.js';

const absPath = z.string().regex(/^\//, 'expected an absolute path');
const mountName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_./-]*$/, 'expected a mount path such as approle or auth-k8s');

const tokenAuth = z.strictObject({
  env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .default('VAULT_TOKEN')
    .meta({ description: 'The environment variable holding the token.' }),
});

const tokenFileAuth = z.strictObject({
  path: absPath.meta({ description: 'A file holding the token; re-read whenever it changes.' }),
});

const approleAuth = z
  .strictObject({
    roleId: z.string().min(1).optional().meta({ description: 'The role_id (not a secret on its own).' }),
    roleIdFile: absPath.optional().meta({ description: 'A file holding the role_id.' }),
    secretIdFile: absPath.optional().meta({ description: 'A file holding the secret_id (or a wrapping token when wrapped).' }),
    wrapped: boolLike.default(false).meta({ description: 'The secret_id file holds a response-wrapping token: unwrap it (sys/wrapping/unwrap).' }),
    mount: mountName.default('approle'),
  })
  .refine((a) => (a.roleId === undefined) !== (a.roleIdFile === undefined), { message: 'set exactly one of roleId or roleIdFile' })
  .refine((a) => !a.wrapped || a.secretIdFile !== undefined, { message: 'wrapped needs a secretIdFile', path: ['wrapped'] });

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const kubernetesAuth = z.strictObject({
  role: z.string().min(1),
  jwtFile: absPath.default(SA_TOKEN).meta({ description: 'The service account token; re-read at each login.' }),
  mount: mountName.default('kubernetes'),
});
const jwtAuth = z.strictObject({
  role: z.string().min(1),
  jwtFile: absPath.meta({ description: 'A file holding the JWT; re-read at each login.' }),
  mount: mountName.default('jwt'),
});

export const authSchema = z
  .union(
    [
      z.strictObject({ token: tokenAuth }),
      z.strictObject({ tokenFile: tokenFileAuth }),
      z.strictObject({ approle: approleAuth }),
      z.strictObject({ kubernetes: kubernetesAuth }),
      z.strictObject({ jwt: jwtAuth }),
    ],
    { error: 'expected one auth method: token: {env}, tokenFile: {path}, approle: {...}, kubernetes: {...} or jwt: {...}' },
  )
  .default({ token: { env: 'VAULT_TOKEN' } });

const backoff = z.strictObject({
  initial: duration.default(1000),
  max: duration.default(30_000),
  factor: z.number().min(1).max(100).default(2),
});
const BACKOFF = { initial: 1000, max: 30_000, factor: 2 };

export const ENGINES = ['kv1', 'kv2', 'generic'] as const;

export const secretSchema = z
  .strictObject({
    name: name.meta({ description: 'Referenced by jobs (name#field), files, templates (secret:name) and as the source of its changed events.' }),
    path: z.string().regex(/^[A-Za-z0-9_][^?#\s]*$/, 'expected a Vault path such as secret/app/db (no leading /)'),
    engine: z
      .enum(ENGINES)
      .default('kv2')
      .meta({ description: 'kv2: path is <mount>/<key> (read at <mount>/data/<key>); kv1; generic: any read endpoint, leases renewed.' }),
    mount: z.string().optional().meta({ description: 'KV v2 mount when it has several segments; defaults to the first segment of path.' }),
    version: intLike(1, 1_000_000_000).optional().meta({ description: 'KV v2: pin this version (it is then never re-read).' }),
    refresh: duration.optional().meta({ description: 'Re-read a static secret this often; defaults to vault.refresh.' }),
    method: z.enum(['GET', 'POST']).default('GET').meta({ description: 'generic: how to read (some engines issue credentials on POST).' }),
    plain: z
      .array(z.string().min(1))
      .default([])
      .meta({ description: 'Fields that are not secret (e.g. a user name): not masked in logs. Every other string of the secret is.' }),
  })
  .refine((s) => s.version === undefined || s.engine === 'kv2', { message: 'version is for kv2 secrets', path: ['version'] });

export const fileSchema = z.strictObject({
  secret: z.string().min(1).meta({ description: 'A name from vault.secrets.' }),
  field: z.string().min(1).optional().meta({ description: 'Write this field only; without it the whole secret as JSON.' }),
  path: absPath,
  mode: z
    .string()
    .regex(/^0?[0-7]{3,4}$/, 'expected an octal mode such as "0600"')
    .default('0600'),
  job: z.string().optional().meta({ description: "Owned by this job's user, and the job's onSecretChange applies." }),
  user: z.string().optional().meta({ description: 'Owner: user, uid, user:group or uid:gid (overrides job).' }),
});

export const vaultSchema = z
  .strictObject({
    address: z.url().optional().meta({ description: 'Defaults to $VAULT_ADDR.' }),
    namespace: z.string().optional().meta({ description: 'Vault Enterprise namespace (X-Vault-Namespace).' }),
    caFile: absPath.optional().meta({ description: 'PEM CA bundle for an https address.' }),
    timeout: duration.default(10_000).meta({ description: 'Per-request timeout.' }),
    auth: authSchema,
    renewAt: z
      .number()
      .gt(0)
      .lt(1)
      .default(2 / 3)
      .meta({ description: 'Renew tokens and leases at this fraction of their TTL.' }),
    refresh: duration.default(60_000).meta({ description: 'Default re-read interval of static (unleased) secrets.' }),
    startup: z
      .strictObject({
        failFast: boolLike.default(true).meta({ description: 'Exit at the first failure (after retries) instead of waiting.' }),
        timeout: duration.default(300_000).meta({ description: 'Without failFast: give up waiting after this long (0: never).' }),
      })
      .default({ failFast: true, timeout: 300_000 }),
    retry: z
      .strictObject({
        attempts: intLike(1, 100).default(3).meta({ description: 'Tries per request on network errors and 5xx.' }),
        backoff: backoff.default(BACKOFF),
      })
      .default({ attempts: 3, backoff: BACKOFF }),
    secrets: z.array(secretSchema).default([]),
    files: z.array(fileSchema).default([]),
  })
  .superRefine((v, ctx) => {
    const names = new Set<string>();
    v.secrets.forEach((s, i) => {
      if (names.has(s.name)) ctx.addIssue({ code: 'custom', message: `duplicate secret name "${s.name}"`, path: ['secrets', i, 'name'] });
      names.add(s.name);
    });
    v.files.forEach((f, i) => {
      if (!names.has(f.secret))
        ctx.addIssue({
          code: 'custom',
          message: `unknown secret "${f.secret}" (vault.secrets has: ${[...names].join(', ') || 'none'})`,
          path: ['files', i, 'secret'],
        });
    });
  })
  .meta({ description: 'Vault: authentication, secrets to jobs, files and templates, renewal and rotation.' });

export type VaultConfig = z.output<typeof vaultSchema>;
export type AuthConfig = z.output<typeof authSchema>;
export type SecretConfig = z.output<typeof secretSchema>;
export type FileConfig = z.output<typeof fileSchema>;
export type RetryConfig = VaultConfig['retry'];
