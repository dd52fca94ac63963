/** `election:` — the schema beside the election runtime (elector.ts, subsystem.ts). */
import * as v from 'valibot';
import { command, duration, name, nonEmpty, oneOf, record, refine, strictObject, type Problem } from '../config/types.js';

/** The event source of `elected` and `demoted`: hooks use `when: {source: election, each: elected}`. */
export { ELECTION_SOURCE } from '../kernel/events.js';

/** Consul's bounds for a session TTL and its lock-delay. */
const TTL_MIN = 10_000;
const TTL_MAX = 86_400_000;
const LOCK_DELAY_MAX = 60_000;

const candidateSchema = strictObject({
  exec: v.pipe(command, v.description('Must exit 0 before this instance may run for primary, e.g. "replica lag is small".')),
  timeout: v.optional(v.pipe(duration, v.description('The gate fails when it runs longer than this.')), '5s'),
  interval: v.optional(v.pipe(duration, v.description('How soon a failed gate is tried again while the key is free.')), '2s'),
});

const rankSchema = strictObject({
  exec: v.pipe(
    command,
    v.description(
      "Prints this instance's rank, a number (the last numeric line of its output counts): the higher, the better a primary it would make, e.g. the replicated GTID sequence number. While the key is free, an instance runs for primary only when no live candidate ranks higher (ties: the smaller id wins).",
    ),
  ),
  timeout: v.optional(v.pipe(duration, v.description('The rank command fails when it runs longer than this.')), '5s'),
  interval: v.optional(v.pipe(duration, v.description('While the key is free: how often the rank is measured and published again.')), '2s'),
  maxWait: v.optional(
    v.pipe(
      duration,
      v.description(
        'After the key became free, how long a candidate waits for a higher-ranked one to take the key, or for one that has not published a fresh rank; then ranks no longer hold it back.',
      ),
    ),
    '20s',
  ),
});

const watchdogSchema = v.optional(
  strictObject({
    margin: v.optional(v.pipe(duration, v.description('Act on an event-loop stall longer than the lease minus this margin.')), '2s'),
    action: v.optional(
      v.pipe(oneOf(['demote', 'kill']), v.description("demote: publish demoted and give up the key; kill: SIGKILL the job's process group first.")),
      'demote',
    ),
  }),
  {},
);

const electionBase = strictObject({
  job: v.optional(v.pipe(name, v.description('The job whose service is elected; defaults to the main job.'))),
  key: v.optional(v.pipe(nonEmpty, v.description('The Consul KV key of the lock; defaults to service/<service name>/primary.'))),
  ttl: v.optional(
    v.pipe(duration, v.description('Session TTL (Consul: 10s to 24h). Renewed every ttl/2; Consul frees an abandoned lock after up to 2×ttl.')),
    '10s',
  ),
  lockDelay: v.optional(
    v.pipe(
      duration,
      v.description(
        'Consul lock-delay after an invalidation (0 to 60s). The default 1s gives the demote hook a head start when a health check invalidates the session; a planned step-down releases the key and never waits for it.',
      ),
    ),
    '1s',
  ),
  behavior: v.optional(v.pipe(oneOf(['release', 'delete']), v.description('What Consul does to the key when the session is invalidated.')), 'release'),
  checks: v.optional(
    v.pipe(
      v.array(nonEmpty),
      v.description(
        'Check IDs attached to the session ("service" = the service\'s own TTL check, "serfHealth" = the agent\'s node). Default: ["service"] when the job has a health check and a port, else []. Any listed check turning critical ends the session.',
      ),
    ),
  ),
  meta: v.optional(v.pipe(record(v.string(), v.string()), v.description('Extra fields written with the address into the key.')), {}),
  candidate: v.optional(candidateSchema),
  rank: v.optional(rankSchema),
  watchdog: watchdogSchema,
  watchWait: v.optional(v.pipe(duration, v.description('The wait of each blocking query on the key (at most 10m).')), '30s'),
});

export const electionSchema = v.pipe(
  electionBase,
  refine<v.InferOutput<typeof electionBase>>((e) => {
    const problems: Problem[] = [];
    if (e.ttl < TTL_MIN || e.ttl > TTL_MAX) problems.push({ message: 'Consul accepts a session TTL from 10s to 24h', path: ['ttl'] });
    if (e.ttl % 1000 !== 0) problems.push({ message: 'use whole seconds for the ttl', path: ['ttl'] });
    if (e.lockDelay > LOCK_DELAY_MAX) problems.push({ message: 'Consul caps lockDelay at 60s', path: ['lockDelay'] });
    if (e.watchdog.margin >= e.ttl) problems.push({ message: 'the watchdog margin must be shorter than the ttl', path: ['watchdog', 'margin'] });
    if (e.watchWait > 600_000) problems.push({ message: 'watchWait is at most 10m', path: ['watchWait'] });
    return problems;
  }),
);

export type ElectionConfig = v.InferOutput<typeof electionSchema>;
export type CandidateConfig = v.InferOutput<typeof candidateSchema>;
export type RankConfig = v.InferOutput<typeof rankSchema>;
