// How long a container's stop may take at most, from its Pilotfish config: the grace period
// that `docker stop -t`, `podman stop -t` and compose's `stop_grace_period` must give it, or the
// engine's SIGKILL cuts off the preStop hooks, the final backup or the postStop hooks.
//
// Every job stops in parallel, each as: preStop hooks (jobs `when: {source: <job>, once|each:
// stopping}`, each bounded by its `timeout`, else by max(stopTimeout, 30s), the longest the
// supervisor waits) → the job's own grace (`stopTimeout`, else the top-level one, 10 s by
// default) → postStop hooks (`stopped`, bounded the same way). `shutdown` hooks run before all
// of it. The budget is the longest such chain plus a margin for the subsystems' own stop
// (Consul deregistration, the control socket) and the engine.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseDuration } from '../../src/kernel/duration.js';

export const STOP_MARGIN_MS = 10_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const MIN_HOOK_WAIT_MS = 30_000;

interface JobDoc {
  name: string;
  stopTimeout?: string | number;
  timeout?: string | number;
  when?: { source?: string; once?: string; each?: string };
}

/** `${NAME:-default}` → default, `${NAME}` → '' (the image's defaults, with no environment). */
function withDefaults(text: string): string {
  return text.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}/g, (_m, def: string | undefined) => def ?? '');
}

function ms(value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const v = parseDuration(value);
  if (v === undefined) throw new Error(`not a duration: ${String(value)}`);
  return v;
}

/** The longest a stop of this config can take, in ms, margin included. */
export function stopBudgetMs(configText: string): number {
  const doc = parse(withDefaults(configText)) as { stopTimeout?: string | number; jobs?: JobDoc[] };
  const top = ms(doc.stopTimeout, DEFAULT_STOP_TIMEOUT_MS);
  const jobs = doc.jobs ?? [];
  const hookWait = Math.max(top, MIN_HOOK_WAIT_MS);
  const hooks = (source: string, code: string) =>
    Math.max(
      0,
      ...jobs
        .filter((j) => j.when?.source === source && (j.when.once === code || j.when.each === code))
        .map((j) => Math.min(ms(j.timeout, hookWait), hookWait)),
    );
  const chains = jobs.map((j) => hooks(j.name, 'stopping') + ms(j.stopTimeout, top) + hooks(j.name, 'stopped'));
  return hooks('pilotfish', 'shutdown') + Math.max(top, ...chains) + STOP_MARGIN_MS;
}

export function stopBudgetOfFile(file: string): number {
  return stopBudgetMs(readFileSync(file, 'utf8'));
}
