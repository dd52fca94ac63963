/** The core endpoints of the control plane, and the ones other subsystems provide when configured. */
import { argMax, execCost, stringProblem } from '../config/limits.js';
import { PilotfishError } from '../kernel/errors.js';
import { VERSION } from '../kernel/version.js';
import type { SupervisorControl, SupervisorStatus } from '../subsystem/contract.js';
import { ControlError, type ControlRequest, type ControlRoutes } from '../subsystem/routes.js';

export interface Health {
  healthy: boolean;
  /** Why not, one line per problem. */
  problems: string[];
}

/** Healthy when the main job (if any) runs and every job with a health check is running and passing. */
export function healthOf(status: SupervisorStatus): Health {
  const problems: string[] = [];
  if (status.stopping) problems.push('pilotfish is stopping');
  for (const job of status.jobs) {
    if (job.main && job.state !== 'running') problems.push(`main job ${job.name} is ${job.state}${job.lastExit?.error ? ` (${job.lastExit.error})` : ''}`);
    if (job.health !== null && job.health !== 'healthy') problems.push(`job ${job.name} is ${job.health}${job.healthReason ? `: ${job.healthReason}` : ''}`);
  }
  return { healthy: problems.length === 0, problems };
}

function stringField(req: ControlRequest, key: string): string {
  const v = req.body[key];
  if (typeof v !== 'string' || v === '') throw new ControlError(400, `"${key}" is required (a string)`);
  return v;
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What Pilotfish's own environment takes in a child's (every job inherits it). */
function baseEnvBytes(): number {
  let total = 0;
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) total += execCost(`${k}=${v}`);
  return total;
}

/** Registers the core endpoints; returns the functions that remove them. */
export function addCoreEndpoints(routes: ControlRoutes, control: SupervisorControl): Array<() => void> {
  /** The size of each variable set by putenv (the values themselves stay in the supervisor). */
  const putenvBytes = new Map<string, number>();
  routes.reserve('POST', '/v1/metric', 'telemetry', 'add a telemetry: section with the metrics to accept');
  routes.reserve('POST', '/v1/backup', 'backup', 'add a backup: section');
  routes.reserve('GET', '/v1/backup/snapshots', 'backup', 'add a backup: section');
  routes.reserve('GET', '/v1/backup/status', 'backup', 'add a backup: section');
  routes.reserve('POST', '/v1/stepdown', 'election', 'add an election: section');
  return [
    routes.add('GET', '/v1', () => ({ endpoints: routes.list() })),
    routes.add('GET', '/v1/ping', () => ({ ok: true, pid: process.pid, version: VERSION })),
    routes.add('GET', '/v1/status', () => control.status()),
    routes.add('GET', '/v1/health', () => healthOf(control.status())),
    routes.add('POST', '/v1/reload', async () => {
      try {
        return await control.reload();
      } catch (error) {
        if (error instanceof PilotfishError && error.code.startsWith('PF_CONFIG'))
          throw new ControlError(400, `reload refused, nothing changed; the config has problems:\n${error.message}`, error.code);
        throw error;
      }
    }),
    routes.add('POST', '/v1/maintenance/enable', () => ({ maintenance: control.maintenance(true) })),
    routes.add('POST', '/v1/maintenance/disable', () => ({ maintenance: control.maintenance(false) })),
    routes.add('POST', '/v1/environ', (req) => {
      const entries = Object.entries(req.body);
      if (entries.length === 0) throw new ControlError(400, 'send a JSON object of variables: {"KEY": "value"} (null removes one)');
      const next = new Map(putenvBytes);
      for (const [k, v] of entries) {
        if (!VARIABLE.test(k)) throw new ControlError(400, `"${k.slice(0, 60)}" is not a variable name (letters, digits and _, not starting with a digit)`);
        if (v !== null && typeof v !== 'string') throw new ControlError(400, `the value of ${k} must be a string, or null to remove it`);
        if (v === null) {
          next.delete(k);
          continue;
        }
        const problem = stringProblem(`${k}=${v}`);
        if (problem) throw new ControlError(400, `${k}=… ${problem}`);
        next.set(k, execCost(`${k}=${v}`));
      }
      // Every process started from now on gets these: they must leave room for the jobs' own.
      const limit = Math.floor(argMax() / 2);
      let total = baseEnvBytes();
      for (const bytes of next.values()) total += bytes;
      if (total > limit)
        throw new ControlError(
          400,
          `the environment of future processes would take ${total} bytes, more than the ${limit} putenv may use (half the kernel's limit on arguments and environment, leaving the rest to each job's own); nothing was set`,
        );
      for (const [k, v] of entries) control.putenv(k, v === null ? undefined : (v as string));
      putenvBytes.clear();
      for (const [k, b] of next) putenvBytes.set(k, b);
      return { environ: control.status().environ };
    }),
    routes.add('POST', '/v1/jobs/:name/signal', (req) => {
      const name = req.params.name as string;
      const signal = stringField(req, 'signal').toUpperCase();
      control.signalJob(name, signal.startsWith('SIG') ? signal : `SIG${signal}`);
      return { job: name, signalled: signal };
    }),
    routes.add('POST', '/v1/jobs/:name/restart', async (req) => {
      await control.restartJob(req.params.name as string);
      return { job: req.params.name, restarted: true };
    }),
    routes.add('POST', '/v1/jobs/:name/stop', async (req) => {
      await control.stopJob(req.params.name as string);
      return { job: req.params.name, stopped: true };
    }),
  ];
}
