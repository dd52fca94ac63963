/** `jobs:` — the job schema (validation) beside the job runtime (job.ts). */
import * as v from 'valibot';
import { execProblem } from '../config/limits.js';
import { didYouMean } from '../config/suggest.js';
import {
  boolLike,
  command,
  duration,
  envMap,
  eventCode,
  intLike,
  name,
  nonEmpty,
  oneOf,
  record,
  refine,
  signalName,
  strictObject,
  type Problem,
} from '../config/types.js';
import { jobSecretsSchema, onSecretChangeSchema } from '../config/secret-refs.js';

const trigger = strictObject({
  source: v.pipe(nonEmpty, v.description('A job, watch or signal name, or "pilotfish".')),
  once: v.optional(v.pipe(eventCode, v.description('Start once, on the first such event.'))),
  each: v.optional(v.pipe(eventCode, v.description('Start on every such event.'))),
});

const whenBase = strictObject({
  source: v.optional(trigger.entries.source),
  once: trigger.entries.once,
  each: trigger.entries.each,
  interval: v.optional(v.pipe(duration, v.description('Run periodically, every interval.'))),
  all: v.optional(
    v.pipe(
      v.array(trigger),
      v.minLength(1, 'Too small: expected array to have >=1 items'),
      v.description('Start once every listed event has been seen (in any order).'),
    ),
  ),
  timeout: v.optional(v.pipe(duration, v.description('Give up waiting after this long, and publish timerExpired from this job.'))),
});

export const whenSchema = v.pipe(
  whenBase,
  refine<v.InferOutput<typeof whenBase>>((w) => {
    const problems: Problem[] = [];
    const kinds = [w.source !== undefined, w.interval !== undefined, w.all !== undefined].filter(Boolean).length;
    if (kinds !== 1) problems.push({ message: 'set exactly one of source, interval or all' });
    if (w.once && w.each) problems.push({ message: 'set once or each, not both', path: ['each'] });
    if ((w.once || w.each) && w.source === undefined) problems.push({ message: 'once and each need a source', path: [w.once ? 'once' : 'each'] });
    if (w.interval !== undefined && w.interval < 10) problems.push({ message: 'interval must be at least 10ms', path: ['interval'] });
    for (const [i, t] of (w.all ?? []).entries()) if (t.once && t.each) problems.push({ message: 'set once or each, not both', path: ['all', i] });
    return problems;
  }),
);

const RESTART_WORDS = ['unlimited', 'never'] as const;
const RESTART_ERROR = 'expected a number, "unlimited" or "never"';

/** A restart count: a number (or a string of digits, from ${VAR}), "unlimited" or "never"; a typo gets a suggestion. */
const restartCount = v.pipe(
  v.union([v.number(), v.string()], RESTART_ERROR),
  v.rawTransform(({ dataset, addIssue, NEVER }): number | 'unlimited' | 'never' => {
    const value = dataset.value;
    const text = typeof value === 'string' ? value.trim() : value;
    if (text === 'unlimited' || text === 'never') return text;
    const n = typeof text === 'number' ? text : /^\d{1,10}$/.test(text) ? Number(text) : NaN;
    if (Number.isInteger(n) && n >= 0 && n <= 1_000_000_000) return n;
    addIssue({
      message: `${RESTART_ERROR} (from 0 to 1000000000); got ${JSON.stringify(typeof text === 'string' && text.length > 40 ? `${text.slice(0, 40)}…` : text)}${didYouMean(text, RESTART_WORDS)}`,
    });
    return NEVER;
  }),
  // For editors: the words, a number, or digits (from ${VAR}).
  v.metadata({
    jsonSchema: {
      anyOf: [{ enum: [...RESTART_WORDS] }, { type: 'integer', minimum: 0, maximum: 1_000_000_000 }, { type: 'string', pattern: '^\\s*-?\\d+\\s*$' }],
    },
  }),
);

const backoffSchema = strictObject({
  initial: v.optional(duration, '1s'),
  max: v.optional(duration, '30s'),
  factor: v.optional(v.pipe(v.number(), v.minValue(1, 'Too small: expected number to be >=1'), v.maxValue(100, 'Too big: expected number to be <=100')), 2),
});

export const restartsSchema = v.pipe(
  v.union(
    [restartCount, strictObject({ max: v.optional(restartCount, 'unlimited'), backoff: v.optional(backoffSchema) })],
    // A mapping is described by what its own keys get wrong (config/load.ts looks inside the union).
    'expected a number, "unlimited", "never", or {max, backoff}',
  ),
  v.transform((r) => {
    const spec = typeof r === 'object' ? r : { max: r, backoff: undefined };
    const max = spec.max === 'unlimited' ? Infinity : spec.max === 'never' ? 0 : spec.max;
    return { max, backoff: spec.backoff ?? { initial: 1000, max: 30_000, factor: 2 } };
  }),
);

export const healthSchema = strictObject({
  exec: command,
  shell: v.optional(boolLike, false),
  interval: v.optional(duration, '10s'),
  timeout: v.optional(v.pipe(duration, v.description('Defaults to the interval.'))),
  ttl: v.optional(v.pipe(duration, v.description('Consul TTL for the check; defaults to twice the interval.'))),
});

const jobBase = strictObject({
  name,
  exec: v.pipe(command, v.description('The command: an argv array, or a string split like a shell would.')),
  shell: v.optional(v.pipe(boolLike, v.description('Give a string exec to /bin/sh -c.')), false),
  env: v.optional(envMap, {}),
  secrets: jobSecretsSchema,
  onSecretChange: onSecretChangeSchema,
  cwd: v.optional(v.string()),
  user: v.optional(
    v.pipe(
      v.string(),
      v.description('Run as this user: a name, uid, or user:group. A user given alone also gets its supplementary groups from /etc/group (through setpriv).'),
    ),
  ),
  when: v.optional(whenSchema),
  // No restarts: { max: 0, backoff: { initial: 1000, max: 30000, factor: 2 } }.
  restarts: v.optional(restartsSchema, { max: 0 }),
  timeout: v.optional(v.pipe(duration, v.description('Kill the process group if it runs longer than this.'))),
  stopSignal: v.optional(signalName, 'SIGTERM'),
  stopTimeout: v.optional(v.pipe(duration, v.description('Defaults to the top-level stopTimeout.'))),
  health: v.optional(healthSchema),
  port: v.optional(v.pipe(intLike(1, 65535), v.description('Register a Consul service on this port.'))),
  tags: v.optional(v.array(v.string()), []),
  interfaces: v.optional(v.union([v.string(), v.array(v.string())])),
  initialStatus: v.optional(oneOf(['passing', 'warning', 'critical'])),
  serviceId: v.optional(v.pipe(nonEmpty, v.description('Consul service ID; defaults to <name>-<hostname>.'))),
  meta: v.optional(v.pipe(record(v.string(), v.string()), v.description('Consul service meta.'))),
  deregisterCriticalServiceAfter: v.optional(v.pipe(duration, v.description('Consul removes the service after its check is critical this long.'))),
  enableTagOverride: v.optional(v.pipe(boolLike, v.description('Let other agents edit the tags (Consul EnableTagOverride).'))),
  main: v.optional(v.pipe(boolLike, v.description("Pilotfish exits with this job's exit code when it ends.")), false),
  logging: v.optional(
    v.pipe(oneOf(['wrapped', 'raw']), v.description('wrapped: each output line logged with job and pid; raw: passed through untouched.')),
    'wrapped',
  ),
});

export const jobSchema = v.pipe(
  jobBase,
  refine<v.InferOutput<typeof jobBase>>((job) => {
    // The job's own part of what its process is started with must fit the kernel's limit by
    // itself (Pilotfish's environment and putenv are added at spawn, and checked there).
    const argv = typeof job.exec === 'string' ? [job.exec] : job.exec;
    const problem = execProblem(argv, job.env);
    return problem && problem.what === 'argv and environment' ? [{ message: problem.message, path: ['env'] }] : [];
  }),
);

export type JobConfig = v.InferOutput<typeof jobSchema>;
export type WhenConfig = v.InferOutput<typeof whenSchema>;
export type RestartsConfig = v.InferOutput<typeof restartsSchema>;
export type HealthConfig = v.InferOutput<typeof healthSchema>;
