/**
 * The `backup:` section: what to back up (directory trees or a command's stdout), where to
 * (S3 or a local directory), when (activity, events, an interval, by hand), and how (hooks,
 * retention, encryption, compression, chunking, concurrency, the writer lease).
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { boolLike, command, duration, eventCode, intLike, name } from '../config/types.js';
import { vaultKeySchema } from '../config/secret-refs.js';

/** The event source name backup events are published under. */
export const BACKUP_SOURCE = 'backup';

const absPath = z.string().min(1).refine(isAbsolute, 'expected an absolute path');

const dirSource = z.strictObject({
  path: absPath.meta({ description: 'A directory tree to back up; restored in place.' }),
  name: name.optional().meta({ description: 'A stable name for the source; defaults to the path.' }),
  exclude: z.array(z.string()).default([]).meta({ description: 'Relative paths (or prefixes ending in /) to skip.' }),
});

const streamSource = z.strictObject({
  name: name.meta({ description: 'A stable name for the stream in snapshots.' }),
  command: command.meta({ description: 'Writes the backup to stdout, e.g. mariadb-backup --backup --stream=xbstream.' }),
  restore: command.meta({ description: 'Reads the backup from stdin, e.g. mbstream -x -C /var/lib/mysql.' }),
  shell: boolLike.default(false).meta({ description: 'Run both commands with /bin/sh -c.' }),
  timeout: duration.default(3_600_000).meta({ description: 'Kill the command after this long.' }),
  dataDir: absPath.optional().meta({
    description: 'For restore policy if-empty: restore only when this directory is empty or missing. Without it, if-empty never restores this source.',
  }),
});

export const sourceSchema = z.union([dirSource, streamSource]);

const s3Store = z.strictObject({
  bucket: z.string().min(1),
  prefix: z.string().default('').meta({ description: 'Key prefix, e.g. "myservice/"; instances sharing it share snapshots.' }),
  endpoint: z.string().optional().meta({ description: 'Default: $AWS_ENDPOINT_URL_S3, else AWS.' }),
  region: z.string().optional().meta({ description: 'Default: $AWS_REGION, else us-east-1.' }),
  forcePathStyle: boolLike.optional().meta({ description: 'Path-style URLs (MinIO); default true when an endpoint is set.' }),
  credentials: z
    .strictObject({
      vault: z.strictObject({
        secret: z.string().min(1).meta({ description: 'A vault.secrets entry: static keys in KV, or the AWS engine (aws/creds/ROLE).' }),
        accessKeyId: z.string().min(1).default('access_key').meta({ description: 'The field holding the access key id.' }),
        secretAccessKey: z.string().min(1).default('secret_key').meta({ description: 'The field holding the secret access key.' }),
        sessionToken: z.string().min(1).default('security_token').meta({ description: 'The field holding a session token, when there is one.' }),
      }),
    })
    .optional()
    .meta({ description: 'Default: the usual AWS environment (AWS_ACCESS_KEY_ID, ..., or an instance role).' }),
});

const localStore = z.strictObject({ path: absPath.meta({ description: 'A directory holding the repository.' }) });

const storeSchema = z.union([z.strictObject({ s3: s3Store }), z.strictObject({ local: localStore })], {
  error: 'expected a store: {s3: {bucket, prefix}} or {local: {path}}',
});

const hook = z.strictObject({
  command,
  shell: boolLike.default(false),
  timeout: duration.default(60_000).meta({ description: 'Kill the hook and fail the backup after this long.' }),
});

/**
 * Key sources. A key source reads the 32+ byte master key at start. Add a member here (and a
 * factory in keys.ts `KEY_SOURCES`) to fetch it elsewhere, e.g. from Vault.
 */
export const keySourceSchema = z.union([
  z.strictObject({ file: absPath.meta({ description: 'A file holding the key: 32+ raw bytes, or hex or base64 text.' }) }),
  vaultKeySchema, // {vault: {secret, field}}: a field of a vault.secrets entry (read through Capabilities.secrets)
]);

export const backupSchema = z
  .strictObject({
    sources: z.array(sourceSchema).min(1, 'at least one source is needed'),
    store: storeSchema,
    restore: z
      .strictObject({
        policy: z.enum(['if-empty', 'always', 'never']).default('if-empty'),
        required: boolLike.default(false).meta({ description: 'Fail the start when no snapshot can be restored.' }),
      })
      .default({ policy: 'if-empty', required: false }),
    triggers: z
      .strictObject({
        activity: z
          .strictObject({
            paths: z.array(absPath).optional().meta({ description: 'Default: the directory sources.' }),
            quiet: duration.default(10_000).meta({ description: 'Back up once nothing changed for this long.' }),
            maxDelay: duration.default(300_000).meta({ description: 'Back up at the latest this long after the first change.' }),
          })
          .optional(),
        events: z.array(z.strictObject({ source: z.string().min(1), on: eventCode })).default([]),
        interval: duration.optional().meta({ description: 'Back up every this long, whatever else happens. Prefer maxAge.' }),
        maxAge: duration.optional().meta({
          description:
            "Back up when the newest snapshot in the store (any instance's, any trigger's) is older than this; with none, this long after start (or after being elected, with primaryOnly). Re-armed by every backup. Reason: max-age.",
        }),
      })
      .default({ events: [] }),
    primaryOnly: boolLike.default(false).meta({
      description:
        'Triggers fire only while this instance is the elected primary (needs election:); on a replica they are ignored. Restores and manual backups are not affected.',
    }),
    hooks: z.strictObject({ pre: hook.optional(), post: hook.optional() }).default({}),
    retention: z
      .strictObject({
        keepLast: intLike(1, 100_000).default(10),
        hourly: intLike(0, 100_000).default(24),
        daily: intLike(0, 100_000).default(7),
      })
      .default({ keepLast: 10, hourly: 24, daily: 7 }),
    gc: z
      .strictObject({
        enabled: boolLike.default(true),
        safetyMargin: duration.default(3_600_000).meta({ description: 'Never delete chunks younger than this.' }),
        maxUnused: z
          .number()
          .min(0)
          .max(1)
          .default(0.1)
          .meta({ description: 'Repack (copy live chunks to new packs) until at most this share of the stored packs is unreferenced; 1 never repacks.' }),
      })
      .default({ enabled: true, safetyMargin: 3_600_000, maxUnused: 0.1 }),
    encryption: z.strictObject({ key: keySourceSchema }).optional(),
    compression: z
      .strictObject({
        algorithm: z.enum(['lz4', 'brotli', 'deflate', 'none']).default('lz4'),
        level: intLike(0, 11).default(1).meta({ description: 'brotli quality or deflate level; lz4 has none.' }),
      })
      .default({ algorithm: 'lz4', level: 1 })
      .meta({
        description:
          'lz4 by default: it decodes about 5× faster than brotli, so a restore (on the path of every cold start) is not held up by decompression; brotli stores text about 30% smaller (bench/backup/README.md).',
      }),
    chunking: z
      .strictObject({
        avgSize: intLike(64 * 1024, 16 * 1024 * 1024)
          .default(1024 * 1024)
          .meta({ description: 'Average chunk size in bytes (content-defined).' }),
      })
      .default({ avgSize: 1024 * 1024 }),
    concurrency: intLike(1, 256).default(16).meta({ description: 'Parallel uploads/downloads.' }),
    lease: z
      .strictObject({
        ttl: duration
          .default(30_000)
          .meta({ description: 'A writer lease not renewed for this long can be taken over (with Consul: the session TTL, at least 10s).' }),
        backend: z.enum(['auto', 'consul', 'store']).default('auto').meta({
          description:
            'consul: a Consul session lock; store: a lock object made with conditional writes in the store; auto: consul when a consul: section exists, else store.',
        }),
        key: z
          .string()
          .min(1)
          .optional()
          .meta({ description: 'The Consul key of the lock; default pilotfish/backup/<store>/lock (one per bucket and prefix).' }),
      })
      .default({ ttl: 30_000, backend: 'auto' }),
  })
  .meta({ description: 'Back up and restore the app state.' });

export type BackupConfig = z.output<typeof backupSchema>;
export type SourceConfig = z.output<typeof sourceSchema>;
export type DirSource = z.output<typeof dirSource>;
export type StreamSource = z.output<typeof streamSource>;
export type StoreConfig = BackupConfig['store'];
export type HookConfig = z.output<typeof hook>;
export type KeySourceConfig = z.output<typeof keySourceSchema>;

export function isDirSource(s: SourceConfig): s is DirSource {
  return 'path' in s;
}

export function sourceName(s: SourceConfig): string {
  return s.name ?? (s as DirSource).path;
}
