/**
 * `vault:` — the schema beside the Vault runtime (session, secrets, files). The references other
 * sections make to its secrets (a job's `secrets:`, a backup key) are in src/config/secret-refs.ts.
 *
 * Secret values never appear in a config: a token comes from an environment variable or a file,
 * an AppRole secret_id from a file, a JWT from a file.
 */
import * as v from 'valibot';
import { boolLike, duration, intLike, name, nonEmpty, oneOf, refine, strictObject, type Problem } from '../config/types.js';

export { parseSecretRef } from '../config/secret-refs.js';

const absPath = v.pipe(v.string(), v.regex(/^\//, 'expected an absolute path'));
const mountName = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_./-]*$/, 'expected a mount path such as approle or auth-k8s'));

const tokenAuth = strictObject({
  env: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'Invalid string: must match pattern /^[A-Za-z_][A-Za-z0-9_]*$/'),
      v.description('The environment variable holding the token.'),
    ),
    'VAULT_TOKEN',
  ),
});

const tokenFileAuth = strictObject({
  path: v.pipe(absPath, v.description('A file holding the token; re-read whenever it changes.')),
});

const approleBase = strictObject({
  roleId: v.optional(v.pipe(nonEmpty, v.description('The role_id (not a secret on its own).'))),
  roleIdFile: v.optional(v.pipe(absPath, v.description('A file holding the role_id.'))),
  secretIdFile: v.optional(v.pipe(absPath, v.description('A file holding the secret_id (or a wrapping token when wrapped).'))),
  wrapped: v.optional(v.pipe(boolLike, v.description('The secret_id file holds a response-wrapping token: unwrap it (sys/wrapping/unwrap).')), false),
  mount: v.optional(mountName, 'approle'),
});
// One check for both rules, so that both are reported when both are broken.
const approleAuth = v.pipe(
  approleBase,
  refine<v.InferOutput<typeof approleBase>>((a) => {
    const problems: Problem[] = [];
    if ((a.roleId === undefined) === (a.roleIdFile === undefined)) problems.push({ message: 'set exactly one of roleId or roleIdFile' });
    if (a.wrapped && a.secretIdFile === undefined) problems.push({ message: 'wrapped needs a secretIdFile', path: ['wrapped'] });
    return problems;
  }),
);

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const kubernetesAuth = strictObject({
  role: nonEmpty,
  jwtFile: v.optional(v.pipe(absPath, v.description('The service account token; re-read at each login.')), SA_TOKEN),
  mount: v.optional(mountName, 'kubernetes'),
});
const jwtAuth = strictObject({
  role: nonEmpty,
  jwtFile: v.pipe(absPath, v.description('A file holding the JWT; re-read at each login.')),
  mount: v.optional(mountName, 'jwt'),
});

export const authSchema = v.optional(
  v.union(
    [
      strictObject({ token: tokenAuth }),
      strictObject({ tokenFile: tokenFileAuth }),
      strictObject({ approle: approleAuth }),
      strictObject({ kubernetes: kubernetesAuth }),
      strictObject({ jwt: jwtAuth }),
    ],
    'expected one auth method: token: {env}, tokenFile: {path}, approle: {...}, kubernetes: {...} or jwt: {...}',
  ),
  { token: { env: 'VAULT_TOKEN' } },
);

const backoff = strictObject({
  initial: v.optional(duration, '1s'),
  max: v.optional(duration, '30s'),
  factor: v.optional(v.pipe(v.number(), v.minValue(1, 'Too small: expected number to be >=1'), v.maxValue(100, 'Too big: expected number to be <=100')), 2),
});

export const ENGINES = ['kv1', 'kv2', 'generic'] as const;

const secretBase = strictObject({
  name: v.pipe(name, v.description('Referenced by jobs (name#field), files, templates (secret:name) and as the source of its changed events.')),
  path: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_][^?#\s]*$/, 'expected a Vault path such as secret/app/db (no leading /)')),
  engine: v.optional(
    v.pipe(oneOf(ENGINES), v.description('kv2: path is <mount>/<key> (read at <mount>/data/<key>); kv1; generic: any read endpoint, leases renewed.')),
    'kv2',
  ),
  mount: v.optional(v.pipe(v.string(), v.description('KV v2 mount when it has several segments; defaults to the first segment of path.'))),
  version: v.optional(v.pipe(intLike(1, 1_000_000_000), v.description('KV v2: pin this version (it is then never re-read).'))),
  refresh: v.optional(v.pipe(duration, v.description('Re-read a static secret this often; defaults to vault.refresh.'))),
  method: v.optional(v.pipe(oneOf(['GET', 'POST']), v.description('generic: how to read (some engines issue credentials on POST).')), 'GET'),
  plain: v.optional(
    v.pipe(v.array(nonEmpty), v.description('Fields that are not secret (e.g. a user name): not masked in logs. Every other string of the secret is.')),
    [],
  ),
});
export const secretSchema = v.pipe(
  secretBase,
  refine<v.InferOutput<typeof secretBase>>((s) =>
    s.version === undefined || s.engine === 'kv2' ? [] : [{ message: 'version is for kv2 secrets', path: ['version'] }],
  ),
);

export const fileSchema = strictObject({
  secret: v.pipe(nonEmpty, v.description('A name from vault.secrets.')),
  field: v.optional(v.pipe(nonEmpty, v.description('Write this field only; without it the whole secret as JSON.'))),
  path: absPath,
  mode: v.optional(v.pipe(v.string(), v.regex(/^0?[0-7]{3,4}$/, 'expected an octal mode such as "0600"')), '0600'),
  job: v.optional(v.pipe(v.string(), v.description("Owned by this job's user, and the job's onSecretChange applies."))),
  user: v.optional(v.pipe(v.string(), v.description('Owner: user, uid, user:group or uid:gid (overrides job).'))),
});

/** A URL after trimming; the tabs and newlines the URL parser ignores are dropped. */
const url = v.pipe(
  v.string(),
  v.transform((s) => s.trim()),
  v.url('Invalid URL'),
  v.transform((s) => s.replace(/[\t\n\r]/g, '')),
);

const vaultBase = strictObject({
  // The trim before the URL check would hide the format from the JSON Schema (its input side ends at a transform).
  address: v.optional(
    v.pipe(
      url,
      v.description('Defaults to $VAULT_ADDR.'),
      v.metadata({ jsonSchema: { type: 'string', format: 'uri', description: 'Defaults to $VAULT_ADDR.' } }),
    ),
  ),
  namespace: v.optional(v.pipe(v.string(), v.description('Vault Enterprise namespace (X-Vault-Namespace).'))),
  caFile: v.optional(v.pipe(absPath, v.description('PEM CA bundle for an https address.'))),
  timeout: v.optional(v.pipe(duration, v.description('Per-request timeout.')), '10s'),
  auth: authSchema,
  renewAt: v.optional(
    v.pipe(
      v.number(),
      v.gtValue(0, 'Too small: expected number to be >0'),
      v.ltValue(1, 'Too big: expected number to be <1'),
      v.description('Renew tokens and leases at this fraction of their TTL.'),
    ),
    2 / 3,
  ),
  refresh: v.optional(v.pipe(duration, v.description('Default re-read interval of static (unleased) secrets.')), '1m'),
  startup: v.optional(
    strictObject({
      failFast: v.optional(v.pipe(boolLike, v.description('Exit at the first failure (after retries) instead of waiting.')), true),
      timeout: v.optional(v.pipe(duration, v.description('Without failFast: give up waiting after this long (0: never).')), '5m'),
    }),
    {},
  ),
  retry: v.optional(
    strictObject({
      attempts: v.optional(v.pipe(intLike(1, 100), v.description('Tries per request on network errors and 5xx.')), 3),
      backoff: v.optional(backoff, {}),
    }),
    {},
  ),
  secrets: v.optional(v.array(secretSchema), []),
  files: v.optional(v.array(fileSchema), []),
});

export const vaultSchema = v.pipe(
  vaultBase,
  refine<v.InferOutput<typeof vaultBase>>((vault) => {
    const problems: Problem[] = [];
    const names = new Set<string>();
    vault.secrets.forEach((s, i) => {
      if (names.has(s.name)) problems.push({ message: `duplicate secret name "${s.name}"`, path: ['secrets', i, 'name'] });
      names.add(s.name);
    });
    vault.files.forEach((f, i) => {
      if (!names.has(f.secret)) {
        problems.push({ message: `unknown secret "${f.secret}" (vault.secrets has: ${[...names].join(', ') || 'none'})`, path: ['files', i, 'secret'] });
      }
    });
    return problems;
  }),
  v.description('Vault: authentication, secrets to jobs, files and templates, renewal and rotation.'),
);

export type VaultConfig = v.InferOutput<typeof vaultSchema>;
export type AuthConfig = v.InferOutput<typeof authSchema>;
export type SecretConfig = v.InferOutput<typeof secretSchema>;
export type FileConfig = v.InferOutput<typeof fileSchema>;
export type RetryConfig = VaultConfig['retry'];
