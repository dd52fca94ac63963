/** A running Pilotfish with its control socket in its temp dir, plus ways to talk to it. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, type Reply } from '../../src/cli/client.js';
import type { SupervisorStatus } from '../../src/subsystem/contract.js';
import { CLI, startPilotfish, type Running } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';

export interface Controlled extends Running {
  socket: string;
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>>;
  status(): Promise<SupervisorStatus>;
  pidOf(job: string): Promise<number | null>;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI (stdout is a pipe, so "not a TTY"). */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Promise<CliResult> {
  return new Promise((resolve) => {
    const argv = [...wrap, process.execPath, CLI, ...args];
    execFile(argv[0] as string, argv.slice(1), { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Start Pilotfish; `config` may be a function of the temp dir it runs in. */
export async function startControlled(config: Record<string, unknown> | ((dir: string) => Record<string, unknown>)): Promise<Controlled> {
  const dir = mkdtempSync(join(tmpdir(), 'pf-control-'));
  if (typeof config === 'function') config = config(dir);
  const given = (config.control ?? {}) as { socket?: string };
  const socket = given.socket ?? join(dir, 'pilotfish.sock');
  const control = { ...given, socket };
  const running = startPilotfish({ ...config, control }, { dir });
  const api = <T>(method: string, path: string, body?: unknown): Promise<Reply<T>> => call<T>(socket, method, path, body);
  try {
    await waitFor(async () => (await api('GET', '/v1/ping')).status === 200, { timeout: 15_000, message: 'the control socket' });
  } catch (error) {
    await running.kill();
    throw new Error(`${(error as Error).message}; output:\n${running.output().slice(-3000)}`, { cause: error });
  }
  const status = async (): Promise<SupervisorStatus> => (await api<SupervisorStatus>('GET', '/v1/status')).body;
  return Object.assign(running, {
    socket,
    api,
    status,
    pidOf: async (job: string) => (await status()).jobs.find((j) => j.name === job)?.pid ?? null,
  }) as Controlled;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
