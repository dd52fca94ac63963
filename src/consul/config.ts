/** `consul:` and `watches:` — schemas beside the Consul runtime (client, register, watch, kvenv). */
import * as v from 'valibot';
import { boolLike, duration, name, refine, strictObject, type Problem } from '../config/types.js';

const startupSchema = v.optional(
  strictObject({
    timeout: v.optional(v.pipe(duration, v.description('How long to retry reaching Consul at start before failing.')), '30s'),
    optional: v.optional(v.pipe(boolLike, v.description('Start anyway when Consul cannot be reached; registration and watches catch up later.')), false),
  }),
  {},
);

const kvEnvBase = strictObject({
  prefix: v.optional(v.pipe(v.string(), v.description('Every key under this prefix becomes a variable.'))),
  key: v.optional(v.pipe(v.string(), v.description('One key becomes one variable (named by `name` or the key).'))),
  name: v.optional(v.pipe(v.string(), v.description('The variable name for a single `key`.'))),
  jobs: v.pipe(v.array(v.string()), v.minLength(1, 'Too small: expected array to have >=1 items'), v.description('The jobs that get these variables.')),
  envPrefix: v.optional(v.pipe(v.string(), v.description('Put before every variable name, e.g. "APP_".')), ''),
  strip: v.optional(v.pipe(boolLike, v.description('Drop the Consul prefix from the variable names.')), true),
  upperCase: v.optional(boolLike, true),
  sanitize: v.optional(v.pipe(boolLike, v.description('Replace characters other than letters, digits and _ with _ (as envconsul does).')), true),
  secret: v.optional(v.pipe(boolLike, v.description('The values are secrets: mask them in every log line (e.g. when the app prints them).')), false),
});

const kvEnvSchema = v.pipe(
  kvEnvBase,
  refine<v.InferOutput<typeof kvEnvBase>>((kv) => {
    const problems: Problem[] = [];
    if ((kv.prefix === undefined) === (kv.key === undefined)) problems.push({ message: 'set exactly one of prefix or key' });
    if (kv.name !== undefined && kv.key === undefined) problems.push({ message: 'name only applies to a single key', path: ['name'] });
    return problems;
  }),
);

export const consulSchema = strictObject({
  address: v.optional(v.pipe(v.string(), v.description('host:port or http(s)://host:port; defaults to CONSUL_HTTP_ADDR, then 127.0.0.1:8500.'))),
  token: v.optional(v.pipe(v.string(), v.description('ACL token; defaults to CONSUL_HTTP_TOKEN. Never logged.'))),
  datacenter: v.optional(v.string()),
  requestTimeout: v.optional(v.pipe(duration, v.description('Timeout of every non-blocking request.')), '10s'),
  resync: v.optional(v.pipe(duration, v.description('How often registrations are checked against the agent and restored if Consul lost them.')), '15s'),
  startup: startupSchema,
  kv: v.optional(v.pipe(v.array(kvEnvSchema), v.description('Consul KV keys as environment variables for chosen jobs.')), []),
});

const quiescenceSchema = v.optional(
  strictObject({
    min: v.optional(v.pipe(duration, v.description('Quiet time to wait after the last change (0: off).')), 0),
    max: v.optional(v.pipe(duration, v.description('Never wait longer than this after the first change; defaults to 4×min.'))),
  }),
  {},
);

const watchBase = strictObject({
  name,
  service: v.optional(v.pipe(v.string(), v.description('Watch the healthy instances of this service.'))),
  tag: v.optional(v.pipe(v.string(), v.description('Only instances with this tag.'))),
  datacenter: v.optional(v.string()),
  key: v.optional(v.pipe(v.string(), v.description('Watch one KV key.'))),
  prefix: v.optional(v.pipe(v.string(), v.description('Watch every KV key under this prefix.'))),
  blockingWait: v.optional(v.pipe(duration, v.description('The `wait` of each blocking query (Consul caps it at 10m).')), '1m'),
  interval: v.optional(v.pipe(duration, v.description('Poll every interval instead of blocking queries (ContainerPilot style; for comparison).'))),
  wait: quiescenceSchema,
});

export const watchSchema = v.pipe(
  watchBase,
  refine<v.InferOutput<typeof watchBase>>((w) => {
    const problems: Problem[] = [];
    const kinds = [w.service, w.key, w.prefix].filter((x) => x !== undefined).length;
    if (kinds !== 1) problems.push({ message: 'set exactly one of service, key or prefix' });
    if (w.tag !== undefined && w.service === undefined) problems.push({ message: 'tag only applies to a service watch', path: ['tag'] });
    if (w.blockingWait > 600_000) problems.push({ message: 'blockingWait is at most 10m', path: ['blockingWait'] });
    return problems;
  }),
);

export const watchesSchema = v.optional(v.array(watchSchema), []);

export type ConsulConfig = v.InferOutput<typeof consulSchema>;
export type KvEnvConfig = ConsulConfig['kv'][number];
export type WatchConfig = v.InferOutput<typeof watchSchema>;

/** The Consul settings a run uses: its own section, else the environment's defaults. */
export function consulDefaults(): ConsulConfig {
  return v.parse(consulSchema, {});
}
