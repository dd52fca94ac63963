/**
 * The `backup:` section: what to back up (directory trees or a command's stdout), where to
 * (S3 or a local directory), when (activity, events, an interval, by hand), and how (hooks,
 * retention, encryption, compression, chunking, concurrency, the writer lease).
 */
import { isAbsolute } from 'node:path';
import * as v from 'valibot';
import { boolLike, command, duration, eventCode, intLike, name, nonEmpty, oneOf, strictObject } from '../config/types.js';
import { vaultKeySchema } from '../config/secret-refs.js';

export { BACKUP_SOURCE } from '../kernel/events.js';

const absPath = v.pipe(nonEmpty, v.check(isAbsolute, 'expected an absolute path'));

const dirSource = strictObject({
  path: v.pipe(absPath, v.description('A directory tree to back up; restored in place.')),
  name: v.optional(v.pipe(name, v.description('A stable name for the source; defaults to the path.'))),
  exclude: v.optional(v.pipe(v.array(v.string()), v.description('Relative paths (or prefixes ending in /) to skip.')), []),
});

const streamSource = strictObject({
  name: v.pipe(name, v.description('A stable name for the stream in snapshots.')),
  command: v.pipe(command, v.description('Writes the backup to stdout, e.g. mariadb-backup --backup --stream=xbstream.')),
  restore: v.pipe(command, v.description('Reads the backup from stdin, e.g. mbstream -x -C /var/lib/mysql.')),
  shell: v.optional(v.pipe(boolLike, v.description('Run both commands with /bin/sh -c.')), false),
  timeout: v.optional(v.pipe(duration, v.description('Kill the command after this long.')), '1h'),
  dataDir: v.optional(
    v.pipe(
      absPath,
      v.description('For restore policy if-empty: restore only when this directory is empty or missing. Without it, if-empty never restores this source.'),
    ),
  ),
});

export const sourceSchema = v.union([dirSource, streamSource]);

const s3Store = strictObject({
  bucket: nonEmpty,
  prefix: v.optional(v.pipe(v.string(), v.description('Key prefix, e.g. "myservice/"; instances sharing it share snapshots.')), ''),
  endpoint: v.optional(v.pipe(v.string(), v.description('Default: $AWS_ENDPOINT_URL_S3, else AWS.'))),
  region: v.optional(v.pipe(v.string(), v.description('Default: $AWS_REGION, else us-east-1.'))),
  forcePathStyle: v.optional(v.pipe(boolLike, v.description('Path-style URLs (MinIO); default true when an endpoint is set.'))),
  credentials: v.optional(
    v.pipe(
      strictObject({
        vault: strictObject({
          secret: v.pipe(nonEmpty, v.description('A vault.secrets entry: static keys in KV, or the AWS engine (aws/creds/ROLE).')),
          accessKeyId: v.optional(v.pipe(nonEmpty, v.description('The field holding the access key id.')), 'access_key'),
          secretAccessKey: v.optional(v.pipe(nonEmpty, v.description('The field holding the secret access key.')), 'secret_key'),
          sessionToken: v.optional(v.pipe(nonEmpty, v.description('The field holding a session token, when there is one.')), 'security_token'),
        }),
      }),
      v.description('Default: the usual AWS environment (AWS_ACCESS_KEY_ID, ..., or an instance role).'),
    ),
  ),
});

const localStore = strictObject({ path: v.pipe(absPath, v.description('A directory holding the repository.')) });

const storeSchema = v.union(
  [strictObject({ s3: s3Store }), strictObject({ local: localStore })],
  'expected a store: {s3: {bucket, prefix}} or {local: {path}}',
);

const hook = strictObject({
  command,
  shell: v.optional(boolLike, false),
  timeout: v.optional(v.pipe(duration, v.description('Kill the hook and fail the backup after this long.')), '1m'),
});

/**
 * Key sources. A key source reads the 32+ byte master key at start. Add a member here (and a
 * factory in keys.ts `KEY_SOURCES`) to fetch it elsewhere, e.g. from Vault.
 */
export const keySourceSchema = v.union([
  strictObject({ file: v.pipe(absPath, v.description('A file holding the key: 32+ raw bytes, or hex or base64 text.')) }),
  vaultKeySchema, // {vault: {secret, field}}: a field of a vault.secrets entry (read through Capabilities.secrets)
]);

export const backupSchema = v.pipe(
  strictObject({
    sources: v.pipe(v.array(sourceSchema), v.minLength(1, 'at least one source is needed')),
    store: storeSchema,
    restore: v.optional(
      strictObject({
        policy: v.optional(oneOf(['if-empty', 'always', 'never']), 'if-empty'),
        required: v.optional(v.pipe(boolLike, v.description('Fail the start when no snapshot can be restored.')), false),
      }),
      {},
    ),
    triggers: v.optional(
      strictObject({
        activity: v.optional(
          strictObject({
            paths: v.optional(v.pipe(v.array(absPath), v.description('Default: the directory sources.'))),
            quiet: v.optional(v.pipe(duration, v.description('Back up once nothing changed for this long.')), '10s'),
            maxDelay: v.optional(v.pipe(duration, v.description('Back up at the latest this long after the first change.')), '5m'),
          }),
        ),
        events: v.optional(v.array(strictObject({ source: nonEmpty, on: eventCode })), []),
        interval: v.optional(v.pipe(duration, v.description('Back up every this long, whatever else happens. Prefer maxAge.'))),
        maxAge: v.optional(
          v.pipe(
            duration,
            v.description(
              "Back up when the newest snapshot in the store (any instance's, any trigger's) is older than this; with none, this long after start (or after being elected, with primaryOnly). Re-armed by every backup. Reason: max-age.",
            ),
          ),
        ),
      }),
      {},
    ),
    primaryOnly: v.optional(
      v.pipe(
        boolLike,
        v.description(
          'Triggers fire only while this instance is the elected primary (needs election:); on a replica they are ignored. Restores and manual backups are not affected.',
        ),
      ),
      false,
    ),
    hooks: v.optional(strictObject({ pre: v.optional(hook), post: v.optional(hook) }), {}),
    retention: v.optional(
      strictObject({
        keepLast: v.optional(intLike(1, 100_000), 10),
        hourly: v.optional(intLike(0, 100_000), 24),
        daily: v.optional(intLike(0, 100_000), 7),
      }),
      {},
    ),
    gc: v.optional(
      strictObject({
        enabled: v.optional(boolLike, true),
        safetyMargin: v.optional(v.pipe(duration, v.description('Never delete chunks younger than this.')), '1h'),
        maxUnused: v.optional(
          v.pipe(
            v.number(),
            v.minValue(0, 'Too small: expected number to be >=0'),
            v.maxValue(1, 'Too big: expected number to be <=1'),
            v.description('Repack (copy live chunks to new packs) until at most this share of the stored packs is unreferenced; 1 never repacks.'),
          ),
          0.1,
        ),
      }),
      {},
    ),
    encryption: v.optional(strictObject({ key: keySourceSchema })),
    compression: v.optional(
      v.pipe(
        strictObject({
          algorithm: v.optional(oneOf(['lz4', 'brotli', 'deflate', 'none']), 'lz4'),
          level: v.optional(v.pipe(intLike(0, 11), v.description('brotli quality or deflate level; lz4 has none.')), 1),
        }),
        v.description(
          'lz4 by default: it decodes about 5× faster than brotli, so a restore (on the path of every cold start) is not held up by decompression; brotli stores text about 30% smaller (bench/backup/README.md).',
        ),
      ),
      {},
    ),
    chunking: v.optional(
      strictObject({
        avgSize: v.optional(v.pipe(intLike(64 * 1024, 16 * 1024 * 1024), v.description('Average chunk size in bytes (content-defined).')), 1024 * 1024),
      }),
      {},
    ),
    concurrency: v.optional(v.pipe(intLike(1, 256), v.description('Parallel uploads/downloads.')), 16),
    lease: v.optional(
      strictObject({
        ttl: v.optional(
          v.pipe(duration, v.description('A writer lease not renewed for this long can be taken over (with Consul: the session TTL, at least 10s).')),
          '30s',
        ),
        backend: v.optional(
          v.pipe(
            oneOf(['auto', 'consul', 'store']),
            v.description(
              'consul: a Consul session lock; store: a lock object made with conditional writes in the store; auto: consul when a consul: section exists, else store.',
            ),
          ),
          'auto',
        ),
        key: v.optional(v.pipe(nonEmpty, v.description('The Consul key of the lock; default pilotfish/backup/<store>/lock (one per bucket and prefix).'))),
      }),
      {},
    ),
  }),
  v.description('Back up and restore the app state.'),
);

export type BackupConfig = v.InferOutput<typeof backupSchema>;
export type SourceConfig = v.InferOutput<typeof sourceSchema>;
export type DirSource = v.InferOutput<typeof dirSource>;
export type StreamSource = v.InferOutput<typeof streamSource>;
export type StoreConfig = BackupConfig['store'];
export type HookConfig = v.InferOutput<typeof hook>;
export type KeySourceConfig = v.InferOutput<typeof keySourceSchema>;

export function isDirSource(s: SourceConfig): s is DirSource {
  return 'path' in s;
}

export function sourceName(s: SourceConfig): string {
  return s.name ?? (s as DirSource).path;
}
