/**
 * Running the real, built Pilotfish CLI as a child process: optionally as PID 1 in a new PID
 * namespace (`unshare --pid --fork --mount-proc`) and inside a network namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { readText } from './files.js';
import { childrenOf, descendants, readProc } from './proc.js';
import { waitFor } from './wait.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');
export const FIXTURES = join(ROOT, 'test/fixtures');
/** The reaper's addon the build compiles (scripts/build.mjs), when there was a C compiler. */
export const ADDON = join(ROOT, 'dist/native/pid1.node');

/** The file name of the bundle a launcher runs (its name is in the launcher: scripts/build.mjs). */
export function bundleOf(launcher = CLI): string | undefined {
  return /pilotfish-[\w-]+\.js/.exec(readFileSync(launcher, 'utf8'))?.[0];
}

export interface LogLine {
  level: string;
  msg: string;
  job?: string;
  pid?: number;
  [key: string]: unknown;
}

export interface StartOptions {
  /** Run as PID 1 of a new PID namespace. */
  pid1?: boolean;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra arguments after `run --config FILE`. */
  args?: string[];
  /** Directory to write the config into; a fresh temp dir by default. */
  dir?: string;
}

export interface Running {
  readonly dir: string;
  readonly configFile: string;
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  /** Everything written to stdout and stderr, raw. */
  output(): string;
  /** The host pid of the Pilotfish process itself (not of unshare). */
  pid(): Promise<number>;
  signal(signal: NodeJS.Signals): Promise<void>;
  waitForLog(match: string | RegExp | ((l: LogLine) => boolean), timeout?: number): Promise<LogLine>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): Promise<void>;
}

const running = new Set<Running>();

/** Kill whatever a test left running. Call from afterEach/afterAll. */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((r) => r.kill()));
}

export function writeConfig(config: string | object, dir?: string): { dir: string; file: string } {
  const where = dir ?? mkdtempSync(join(tmpdir(), 'pf-test-'));
  const file = join(where, 'pilotfish.yaml');
  const withDefaults = typeof config === 'string' ? config : stringify({ logging: { level: 'debug', format: 'json' }, ...config });
  writeFileSync(file, withDefaults);
  return { dir: where, file };
}

export function startPilotfish(config: string | object, options: StartOptions = {}): Running {
  const { dir, file } = writeConfig(config, options.dir);
  let argv = [process.execPath, CLI, 'run', '--config', file, ...(options.args ?? [])];
  if (options.pid1) argv = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', ...argv];
  if (options.netns) argv = ['ip', 'netns', 'exec', options.netns, ...argv];
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let raw = '';
  let carry = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    raw += chunk;
    const lines = (carry + chunk).split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not a JSON log line (raw child output)
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  const wrapped = (options.pid1 ?? false) || options.netns !== undefined;

  const r: Running = {
    dir,
    configFile: file,
    child,
    logs,
    output: () => raw,
    async pid() {
      if (!wrapped) return child.pid as number;
      // Follow the wrapper chain (ip netns exec → unshare → node) down to node.
      return waitFor(
        () => {
          let pid = child.pid as number;
          for (let i = 0; i < 3; i++) {
            const comm = readText(`/proc/${pid}/comm`).trim();
            if (comm === 'node' || comm === 'MainThread') return pid;
            const kids = childrenOf(pid);
            if (kids.length === 0) return undefined;
            pid = kids[0] as number;
          }
          return readText(`/proc/${pid}/comm`).trim() === 'node' ? pid : undefined;
        },
        { timeout: 10_000, message: 'the pilotfish process to appear' },
      );
    },
    async signal(signal) {
      process.kill(await r.pid(), signal);
    },
    async waitForLog(match, timeout = 15_000) {
      const test =
        typeof match === 'function' ? match : typeof match === 'string' ? (l: LogLine) => l.msg?.includes(match) : (l: LogLine) => match.test(l.msg ?? '');
      return waitFor(() => logs.find(test), {
        timeout,
        message: `a log line matching ${String(match)}; output so far:\n${raw.slice(-3000)}`,
      });
    },
    exited,
    async kill() {
      running.delete(r);
      if (child.exitCode !== null || child.signalCode !== null) return;
      // Note every process group under Pilotfish first: a Pilotfish killed outside a PID
      // namespace leaves its jobs behind, and they must not outlive the test.
      let pid: number | undefined;
      try {
        pid = await r.pid();
      } catch {
        // never came up
      }
      const ours = readProc(process.pid)?.pgid;
      const groups = new Set(
        pid
          ? descendants(pid)
              .map((p) => p.pgid)
              .filter((g) => g !== ours)
          : [],
      );
      // Gracefully first, so the stop sequence runs; then by force.
      if (pid) signalSafe(pid, 'SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), delay(5000).then(() => false)]);
      if (!stopped) {
        if (pid) signalSafe(pid, 'SIGKILL');
        child.kill('SIGKILL');
      }
      for (const group of groups) signalSafe(-group, 'SIGKILL');
      await exited;
    },
  };
  void exited.then(() => running.delete(r));
  running.add(r);
  return r;
}

function signalSafe(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
