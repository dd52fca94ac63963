/** `election:` — the schema beside the election runtime (elector.ts, subsystem.ts). */
import { z } from 'zod';
import { command, duration, name } from '../config/types.js';

/** The event source of `elected` and `demoted`: hooks use `when: {source: election, each: elected}`. */
export { ELECTION_SOURCE } from '../kernel/events.js';

/** Consul's bounds for a session TTL and its lock-delay. */
const TTL_MIN = 10_000;
const TTL_MAX = 86_400_000;
const LOCK_DELAY_MAX = 60_000;

const candidateSchema = z.strictObject({
  exec: command.meta({ description: 'Must exit 0 before this instance may run for primary, e.g. "replica lag is small".' }),
  timeout: duration.default(5_000).meta({ description: 'The gate fails when it runs longer than this.' }),
  interval: duration.default(2_000).meta({ description: 'How soon a failed gate is tried again while the key is free.' }),
});

const rankSchema = z.strictObject({
  exec: command.meta({
    description:
      "Prints this instance's rank, a number (the last numeric line of its output counts): the higher, the better a primary it would make, e.g. the replicated GTID sequence number. While the key is free, an instance runs for primary only when no live candidate ranks higher (ties: the smaller id wins).",
  }),
  timeout: duration.default(5_000).meta({ description: 'The rank command fails when it runs longer than this.' }),
  interval: duration.default(2_000).meta({ description: 'While the key is free: how often the rank is measured and published again.' }),
  maxWait: duration.default(20_000).meta({
    description:
      'After the key became free, how long a candidate waits for a higher-ranked one to take the key, or for one that has not published a fresh rank; then ranks no longer hold it back.',
  }),
});

const watchdogSchema = z
  .strictObject({
    margin: duration.default(2_000).meta({ description: 'Act on an event-loop stall longer than the lease minus this margin.' }),
    action: z
      .enum(['demote', 'kill'])
      .default('demote')
      .meta({ description: "demote: publish demoted and give up the key; kill: SIGKILL the job's process group first." }),
  })
  .default({ margin: 2_000, action: 'demote' });

export const electionSchema = z
  .strictObject({
    job: name.optional().meta({ description: 'The job whose service is elected; defaults to the main job.' }),
    key: z.string().min(1).optional().meta({ description: 'The Consul KV key of the lock; defaults to service/<service name>/primary.' }),
    ttl: duration.default(10_000).meta({
      description: 'Session TTL (Consul: 10s to 24h). Renewed every ttl/2; Consul frees an abandoned lock after up to 2×ttl.',
    }),
    lockDelay: duration.default(1_000).meta({
      description:
        'Consul lock-delay after an invalidation (0 to 60s). The default 1s gives the demote hook a head start when a health check invalidates the session; a planned step-down releases the key and never waits for it.',
    }),
    behavior: z.enum(['release', 'delete']).default('release').meta({ description: 'What Consul does to the key when the session is invalidated.' }),
    checks: z.array(z.string().min(1)).optional().meta({
      description:
        'Check IDs attached to the session ("service" = the service\'s own TTL check, "serfHealth" = the agent\'s node). Default: ["service"] when the job has a health check and a port, else []. Any listed check turning critical ends the session.',
    }),
    meta: z.record(z.string(), z.string()).default({}).meta({ description: 'Extra fields written with the address into the key.' }),
    candidate: candidateSchema.optional(),
    rank: rankSchema.optional(),
    watchdog: watchdogSchema,
    watchWait: duration.default(30_000).meta({ description: 'The wait of each blocking query on the key (at most 10m).' }),
  })
  .superRefine((e, ctx) => {
    if (e.ttl < TTL_MIN || e.ttl > TTL_MAX) ctx.addIssue({ code: 'custom', message: 'Consul accepts a session TTL from 10s to 24h', path: ['ttl'] });
    if (e.ttl % 1000 !== 0) ctx.addIssue({ code: 'custom', message: 'use whole seconds for the ttl', path: ['ttl'] });
    if (e.lockDelay > LOCK_DELAY_MAX) ctx.addIssue({ code: 'custom', message: 'Consul caps lockDelay at 60s', path: ['lockDelay'] });
    if (e.watchdog.margin >= e.ttl) ctx.addIssue({ code: 'custom', message: 'the watchdog margin must be shorter than the ttl', path: ['watchdog', 'margin'] });
    if (e.watchWait > 600_000) ctx.addIssue({ code: 'custom', message: 'watchWait is at most 10m', path: ['watchWait'] });
  });

export type ElectionConfig = z.output<typeof electionSchema>;
export type CandidateConfig = z.output<typeof candidateSchema>;
export type RankConfig = z.output<typeof rankSchema>;
