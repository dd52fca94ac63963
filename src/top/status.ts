/** Assembling `pilotfish status` from the supervisor's parts (kept out of supervisor.ts). */
import { errorMessage } from '../kernel/errors.js';
import type { EventBus } from '../kernel/events.js';
import type { Subsystem, SupervisorStatus } from '../subsystem/contract.js';
import type { JobStatus } from '../jobs/job.js';

export interface StatusParts {
  startedAt: number;
  stopping: boolean;
  maintenance: boolean;
  mainJob: string | undefined;
  jobs: JobStatus[];
  environ: Iterable<string>;
  reloads: number;
  /** Runs and restarts of job instances already replaced. */
  retired: ReadonlyMap<string, { runs: number; restarts: number }>;
  bus: EventBus;
  subsystems: readonly Subsystem[];
}

function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
}

export function buildStatus(p: StatusParts): SupervisorStatus {
  const jobTotals: SupervisorStatus['jobTotals'] = {};
  for (const [name, r] of p.retired) jobTotals[name] = { ...r };
  for (const j of p.jobs) {
    const t = (jobTotals[j.name] ??= { runs: 0, restarts: 0 });
    t.runs += j.runs;
    t.restarts += j.restarts;
  }
  const subsystems: Record<string, unknown> = {};
  for (const sub of p.subsystems) {
    try {
      if (sub.status) subsystems[sub.name] = sub.status();
    } catch (error) {
      subsystems[sub.name] = { error: errorMessage(error) };
    }
  }
  return {
    pid: process.pid,
    uptimeMs: Date.now() - p.startedAt,
    stopping: p.stopping,
    maintenance: p.maintenance,
    mainJob: p.mainJob ?? null,
    jobs: p.jobs,
    environ: [...p.environ],
    reloads: p.reloads,
    jobTotals,
    events: Object.fromEntries(p.bus.counts()),
    subsystems,
    runtime: {
      resources: countBy(process.getActiveResourcesInfo()),
      subscribers: Object.keys(p.bus.backlog()).length,
      processListeners: process.eventNames().reduce((n, name) => n + process.listenerCount(name), 0),
      rssBytes: process.memoryUsage.rss(),
      heapUsedBytes: process.memoryUsage().heapUsed,
    },
  };
}
