/** Pilotfish's own metrics: jobs, health checks, events, maintenance, reloads. */
import { VERSION } from '../kernel/version.js';
import type { SubsystemContext } from '../subsystem/contract.js';
import { counter, gauge, unregister } from './metrics.js';

/** Register the built-in metrics; returns the function that removes them and their subscription. */
export function registerBuiltins(ctx: SubsystemContext): () => void {
  const names: string[] = [];
  const track = <T>(name: string, m: T): T => {
    names.push(name);
    return m;
  };
  track('pilotfish_build_info', gauge('pilotfish_build_info', 'Always 1; the version is a label.', { labels: ['version'] })).set({ version: VERSION }, 1);

  // Totals from the supervisor survive a job being replaced by a reload or a restart.
  const totals = (): Array<[string, { runs: number; restarts: number }]> => Object.entries(ctx.control.status().jobTotals);
  track(
    'pilotfish_job_starts_total',
    counter('pilotfish_job_starts_total', 'Processes started, by job.', {
      labels: ['job'],
      collect() {
        this.reset();
        for (const [job, t] of totals()) this.inc({ job }, t.runs);
      },
    }),
  );
  track(
    'pilotfish_job_restarts_total',
    counter('pilotfish_job_restarts_total', 'Automatic restarts after an exit, by job.', {
      labels: ['job'],
      collect() {
        this.reset();
        for (const [job, t] of totals()) this.inc({ job }, t.restarts);
      },
    }),
  );
  const exits = track(
    'pilotfish_job_exits_total',
    counter('pilotfish_job_exits_total', 'Process exits not caused by a stop, by job and result (success or failure).', { labels: ['job', 'result'] }),
  );
  const checks = track(
    'pilotfish_health_checks_total',
    counter('pilotfish_health_checks_total', 'Health check runs, by job and result (passed or failed).', { labels: ['job', 'result'] }),
  );
  track(
    'pilotfish_job_running',
    gauge('pilotfish_job_running', '1 while the job has a running process, else 0.', {
      labels: ['job'],
      collect() {
        this.reset();
        for (const job of ctx.jobs()) this.set({ job: job.name }, job.state === 'running' ? 1 : 0);
      },
    }),
  );
  track(
    'pilotfish_job_healthy',
    gauge('pilotfish_job_healthy', '1 while the job passes its health check, else 0 (jobs with a health check only).', {
      labels: ['job'],
      collect() {
        this.reset();
        for (const job of ctx.jobs()) if (job.health !== null) this.set({ job: job.name }, job.health === 'healthy' ? 1 : 0);
      },
    }),
  );
  track(
    'pilotfish_events_total',
    counter('pilotfish_events_total', 'Events published on the bus, by code.', {
      labels: ['code'],
      collect() {
        this.reset();
        for (const [code, n] of ctx.bus.counts()) this.inc({ code }, n);
      },
    }),
  );
  track(
    'pilotfish_maintenance',
    gauge('pilotfish_maintenance', '1 while in maintenance mode, else 0.', {
      collect() {
        this.set(ctx.control.status().maintenance ? 1 : 0);
      },
    }),
  );
  track(
    'pilotfish_reloads_total',
    counter('pilotfish_reloads_total', 'Successful config reloads.', {
      collect() {
        this.reset();
        this.inc(ctx.control.status().reloads);
      },
    }),
  );
  const unsubscribe = ctx.bus.subscribe(
    'telemetry',
    (ev) => {
      if (ev.code === 'exitSuccess' || ev.code === 'exitFailed') exits.inc({ job: ev.source, result: ev.code === 'exitSuccess' ? 'success' : 'failure' });
      else checks.inc({ job: ev.source, result: ev.code === 'healthPassed' ? 'passed' : 'failed' });
    },
    (ev) => ev.code === 'exitSuccess' || ev.code === 'exitFailed' || ev.code === 'healthPassed' || ev.code === 'healthFailed',
  );
  return () => {
    unsubscribe();
    for (const n of names) unregister(n);
  };
}
