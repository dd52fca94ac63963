/** `consul:` and `watches:` — schemas beside the Consul runtime (client, register, watch, kvenv). */
import { z } from 'zod';
import { boolLike, duration, name } from '../config/types.js';

const startupSchema = z
  .strictObject({
    timeout: duration.default(30_000).meta({ description: 'How long to retry reaching Consul at start before failing.' }),
    optional: boolLike.default(false).meta({ description: 'Start anyway when Consul cannot be reached; registration and watches catch up later.' }),
  })
  .default({ timeout: 30_000, optional: false });

const kvEnvSchema = z
  .strictObject({
    prefix: z.string().optional().meta({ description: 'Every key under this prefix becomes a variable.' }),
    key: z.string().optional().meta({ description: 'One key becomes one variable (named by `name` or the key).' }),
    name: z.string().optional().meta({ description: 'The variable name for a single `key`.' }),
    jobs: z.array(z.string()).min(1).meta({ description: 'The jobs that get these variables.' }),
    envPrefix: z.string().default('').meta({ description: 'Put before every variable name, e.g. "APP_".' }),
    strip: boolLike.default(true).meta({ description: 'Drop the Consul prefix from the variable names.' }),
    upperCase: boolLike.default(true),
    sanitize: boolLike.default(true).meta({ description: 'Replace characters other than letters, digits and _ with _ (as envconsul does).' }),
    secret: boolLike.default(false).meta({ description: 'The values are secrets: mask them in every log line (e.g. when the app prints them).' }),
  })
  .superRefine((kv, ctx) => {
    if ((kv.prefix === undefined) === (kv.key === undefined)) ctx.addIssue({ code: 'custom', message: 'set exactly one of prefix or key' });
    if (kv.name !== undefined && kv.key === undefined) ctx.addIssue({ code: 'custom', message: 'name only applies to a single key', path: ['name'] });
  });

export const consulSchema = z.strictObject({
  address: z.string().optional().meta({ description: 'host:port or http(s)://host:port; defaults to CONSUL_HTTP_ADDR, then 127.0.0.1:8500.' }),
  token: z.string().optional().meta({ description: 'ACL token; defaults to CONSUL_HTTP_TOKEN. Never logged.' }),
  datacenter: z.string().optional(),
  requestTimeout: duration.default(10_000).meta({ description: 'Timeout of every non-blocking request.' }),
  resync: duration.default(15_000).meta({ description: 'How often registrations are checked against the agent and restored if Consul lost them.' }),
  startup: startupSchema,
  kv: z.array(kvEnvSchema).default([]).meta({ description: 'Consul KV keys as environment variables for chosen jobs.' }),
});

const quiescenceSchema = z
  .strictObject({
    min: duration.default(0).meta({ description: 'Quiet time to wait after the last change (0: off).' }),
    max: duration.optional().meta({ description: 'Never wait longer than this after the first change; defaults to 4×min.' }),
  })
  .default({ min: 0 });

export const watchSchema = z
  .strictObject({
    name,
    service: z.string().optional().meta({ description: 'Watch the healthy instances of this service.' }),
    tag: z.string().optional().meta({ description: 'Only instances with this tag.' }),
    datacenter: z.string().optional(),
    key: z.string().optional().meta({ description: 'Watch one KV key.' }),
    prefix: z.string().optional().meta({ description: 'Watch every KV key under this prefix.' }),
    blockingWait: duration.default(60_000).meta({ description: 'The `wait` of each blocking query (Consul caps it at 10m).' }),
    interval: duration.optional().meta({ description: 'Poll every interval instead of blocking queries (ContainerPilot style; for comparison).' }),
    wait: quiescenceSchema,
  })
  .superRefine((w, ctx) => {
    const kinds = [w.service, w.key, w.prefix].filter((v) => v !== undefined).length;
    if (kinds !== 1) ctx.addIssue({ code: 'custom', message: 'set exactly one of service, key or prefix' });
    if (w.tag !== undefined && w.service === undefined) ctx.addIssue({ code: 'custom', message: 'tag only applies to a service watch', path: ['tag'] });
    if (w.blockingWait > 600_000) ctx.addIssue({ code: 'custom', message: 'blockingWait is at most 10m', path: ['blockingWait'] });
  });

export const watchesSchema = z.array(watchSchema).default([]);

export type ConsulConfig = z.output<typeof consulSchema>;
export type KvEnvConfig = ConsulConfig['kv'][number];
export type WatchConfig = z.output<typeof watchSchema>;

/** The Consul settings a run uses: its own section, else the environment's defaults. */
export function consulDefaults(): ConsulConfig {
  return consulSchema.parse({});
}
