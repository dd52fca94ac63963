/**
 * What a reload changes: the jobs whose normalized definition differs are restarted, new jobs
 * are added, removed jobs are stopped, and everything else keeps running untouched
 * (ContainerPilot tore every process down on reload).
 */
import type { Config } from './schema.js';
import type { JobConfig } from '../jobs/config.js';
import { sameConfig } from '../kernel/same.js';

export { sameConfig };

export interface ReloadPlan {
  changed: JobConfig[];
  added: JobConfig[];
  removed: string[];
  unchanged: string[];
  /**
   * Top-level sections, other than the live ones, that differ. The supervisor then removes those
   * a subsystem applies itself (Subsystem.prepareReload: templates, backup).
   */
  needsRestart: string[];
}

/** Sections the supervisor applies itself. The others belong to subsystems (see needsRestart). */
const LIVE_SECTIONS = new Set(['jobs', 'signals', 'logging', 'stopTimeout', '$schema']);

export function planReload(before: Config, after: Config): ReloadPlan {
  const old = new Map(before.jobs.map((j) => [j.name, j]));
  const plan: ReloadPlan = { changed: [], added: [], removed: [], unchanged: [], needsRestart: [] };
  for (const job of after.jobs) {
    const prev = old.get(job.name);
    if (!prev) plan.added.push(job);
    else if (!sameConfig(prev, job)) plan.changed.push(job);
    else plan.unchanged.push(job.name);
  }
  const next = new Set(after.jobs.map((j) => j.name));
  for (const name of old.keys()) if (!next.has(name)) plan.removed.push(name);
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    if (LIVE_SECTIONS.has(key)) continue;
    if (!sameConfig((before as Record<string, unknown>)[key], (after as Record<string, unknown>)[key])) plan.needsRestart.push(key);
  }
  return plan;
}
