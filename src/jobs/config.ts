/** `jobs:` — the job schema (validation) beside the job runtime (job.ts). */
import { z } from 'zod';
import { execProblem } from '../config/limits.js';
import { nearest } from '../config/suggest.js';
import { boolLike, command, duration, envMap, eventCode, intLike, name, signalName } from '../config/types.js';
import { jobSecretsSchema, onSecretChangeSchema } from '../config/secret-refs.js';

const trigger = z.strictObject({
  source: z.string().min(1).meta({ description: 'A job, watch or signal name, or "pilotfish".' }),
  once: eventCode.optional().meta({ description: 'Start once, on the first such event.' }),
  each: eventCode.optional().meta({ description: 'Start on every such event.' }),
});

export const whenSchema = z
  .strictObject({
    source: trigger.shape.source.optional(),
    once: trigger.shape.once,
    each: trigger.shape.each,
    interval: duration.optional().meta({ description: 'Run periodically, every interval.' }),
    all: z.array(trigger).min(1).optional().meta({ description: 'Start once every listed event has been seen (in any order).' }),
    timeout: duration.optional().meta({
      description: 'Give up waiting after this long, and publish timerExpired from this job.',
    }),
  })
  .superRefine((w, ctx) => {
    const kinds = [w.source !== undefined, w.interval !== undefined, w.all !== undefined].filter(Boolean).length;
    if (kinds !== 1) ctx.addIssue({ code: 'custom', message: 'set exactly one of source, interval or all' });
    if (w.once && w.each) ctx.addIssue({ code: 'custom', message: 'set once or each, not both', path: ['each'] });
    if ((w.once || w.each) && w.source === undefined)
      ctx.addIssue({ code: 'custom', message: 'once and each need a source', path: [w.once ? 'once' : 'each'] });
    if (w.interval !== undefined && w.interval < 10) ctx.addIssue({ code: 'custom', message: 'interval must be at least 10ms', path: ['interval'] });
    for (const [i, t] of (w.all ?? []).entries())
      if (t.once && t.each) ctx.addIssue({ code: 'custom', message: 'set once or each, not both', path: ['all', i] });
  });

const RESTART_WORDS = ['unlimited', 'never'] as const;
const RESTART_ERROR = 'expected a number, "unlimited" or "never"';

/** A restart count: a number (or a string of digits, from ${VAR}), "unlimited" or "never"; a typo gets a suggestion. */
const restartCount = z
  .union([z.number(), z.string()], { error: RESTART_ERROR })
  .transform((v, ctx): number | 'unlimited' | 'never' => {
    const text = typeof v === 'string' ? v.trim() : v;
    if (text === 'unlimited' || text === 'never') return text;
    const n = typeof text === 'number' ? text : /^\d{1,10}$/.test(text) ? Number(text) : NaN;
    if (Number.isInteger(n) && n >= 0 && n <= 1_000_000_000) return n;
    const guess = typeof text === 'string' ? nearest(text, RESTART_WORDS) : undefined;
    ctx.addIssue({
      code: 'custom',
      message: `${RESTART_ERROR} (from 0 to 1000000000); got ${JSON.stringify(typeof text === 'string' && text.length > 40 ? `${text.slice(0, 40)}…` : text)}${guess ? ` (did you mean "${guess}"?)` : ''}`,
    });
    return z.NEVER;
  })
  // For editors: the words, a number, or digits (from ${VAR}).
  .meta({
    anyOf: [{ enum: [...RESTART_WORDS] }, { type: 'integer', minimum: 0, maximum: 1_000_000_000 }, { type: 'string', pattern: '^\\s*-?\\d+\\s*$' }],
  } as never);

const backoffSchema = z.strictObject({
  initial: duration.default(1000),
  max: duration.default(30_000),
  factor: z.number().min(1).max(100).default(2),
});

export const restartsSchema = z
  .union([restartCount, z.strictObject({ max: restartCount.default('unlimited'), backoff: backoffSchema.optional() })], {
    error: (issue) =>
      issue.input !== null && typeof issue.input === 'object' && !Array.isArray(issue.input)
        ? undefined
        : 'expected a number, "unlimited", "never", or {max, backoff}',
  })
  .transform((r) => {
    const spec = typeof r === 'object' ? r : { max: r, backoff: undefined };
    const max = spec.max === 'unlimited' ? Infinity : spec.max === 'never' ? 0 : spec.max;
    return { max, backoff: spec.backoff ?? { initial: 1000, max: 30_000, factor: 2 } };
  });

export const healthSchema = z.strictObject({
  exec: command,
  shell: boolLike.default(false),
  interval: duration.default(10_000),
  timeout: duration.optional().meta({ description: 'Defaults to the interval.' }),
  ttl: duration.optional().meta({ description: 'Consul TTL for the check; defaults to twice the interval.' }),
});

export const jobSchema = z
  .strictObject({
    name,
    exec: command.meta({ description: 'The command: an argv array, or a string split like a shell would.' }),
    shell: boolLike.default(false).meta({ description: 'Give a string exec to /bin/sh -c.' }),
    env: envMap.default({}),
    secrets: jobSecretsSchema,
    onSecretChange: onSecretChangeSchema,
    cwd: z.string().optional(),
    user: z.string().optional().meta({
      description: 'Run as this user: a name, uid, or user:group. A user given alone also gets its supplementary groups from /etc/group (through setpriv).',
    }),
    when: whenSchema.optional(),
    restarts: restartsSchema.default({ max: 0, backoff: { initial: 1000, max: 30_000, factor: 2 } }),
    timeout: duration.optional().meta({ description: 'Kill the process group if it runs longer than this.' }),
    stopSignal: signalName.default('SIGTERM'),
    stopTimeout: duration.optional().meta({ description: 'Defaults to the top-level stopTimeout.' }),
    health: healthSchema.optional(),
    port: intLike(1, 65535).optional().meta({ description: 'Register a Consul service on this port.' }),
    tags: z.array(z.string()).default([]),
    interfaces: z.union([z.string(), z.array(z.string())]).optional(),
    initialStatus: z.enum(['passing', 'warning', 'critical']).optional(),
    serviceId: z.string().min(1).optional().meta({ description: 'Consul service ID; defaults to <name>-<hostname>.' }),
    meta: z.record(z.string(), z.string()).optional().meta({ description: 'Consul service meta.' }),
    deregisterCriticalServiceAfter: duration.optional().meta({ description: 'Consul removes the service after its check is critical this long.' }),
    enableTagOverride: boolLike.optional().meta({ description: 'Let other agents edit the tags (Consul EnableTagOverride).' }),
    main: boolLike.default(false).meta({ description: "Pilotfish exits with this job's exit code when it ends." }),
    logging: z
      .enum(['wrapped', 'raw'])
      .default('wrapped')
      .meta({ description: 'wrapped: each output line logged with job and pid; raw: passed through untouched.' }),
  })
  .superRefine((job, ctx) => {
    // The job's own part of what its process is started with must fit the kernel's limit by
    // itself (Pilotfish's environment and putenv are added at spawn, and checked there).
    const argv = typeof job.exec === 'string' ? [job.exec] : job.exec;
    const problem = execProblem(argv, job.env);
    if (problem && problem.what === 'argv and environment') ctx.addIssue({ code: 'custom', message: problem.message, path: ['env'] });
  });

export type JobConfig = z.output<typeof jobSchema>;
export type WhenConfig = z.output<typeof whenSchema>;
export type RestartsConfig = z.output<typeof restartsSchema>;
export type HealthConfig = z.output<typeof healthSchema>;
