// Init mode: `pilotfish run -- CMD` (and `pilotfish -- CMD`) with no config runs CMD the way
// tini and dumb-init do: exit codes, signals to the whole group, quiet output, reaping as PID 1
// and as a subreaper. The terminal's part is in init-mode-tty.test.ts.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, FIXTURES, ROOT } from '../helpers/pilotfish.js';
import { childrenOf, readProc } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

interface Init {
  pid: () => Promise<number>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const started: Array<() => void> = [];
afterEach(() => {
  for (const kill of started.splice(0)) kill();
});

/** `pilotfish ARGS...` as a child of this test, or as PID 1 of a new PID namespace. */
function pilotfish(args: string[], options: { pid1?: boolean; env?: NodeJS.ProcessEnv } = {}): Init {
  let argv = [process.execPath, CLI, ...args];
  if (options.pid1) argv = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', ...argv];
  const child = spawn(argv[0] as string, argv.slice(1), { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  started.push(() => child.exitCode === null && child.kill('SIGKILL'));
  return {
    stdout: () => out,
    stderr: () => err,
    exited,
    pid: async () =>
      options.pid1
        ? waitFor(() => childrenOf(child.pid as number).find((p) => readProc(p)?.comm !== 'unshare'), { message: 'pilotfish under unshare' })
        : (child.pid as number),
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'pf-init-'));
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);

describe.each([
  ['as PID 1', true],
  ['as a subreaper', false],
])('exit codes %s', (_label, pid1) => {
  it.each([0, 3, 255])('the command exits %i → pilotfish exits the same', async (code) => {
    expect(await pilotfish(['run', '--', `${FIXTURES}/exit-with.sh`, String(code)], { pid1 }).exited).toBe(code);
  });

  it.each([
    ['KILL', 137],
    ['TERM', 143],
    ['SEGV', 139],
  ])('the command dies of SIG%s → %i', async (signal, code) => {
    expect(await pilotfish(['--', `${FIXTURES}/exit-with.sh`, 'signal', signal], { pid1 }).exited).toBe(code);
  });

  it('a missing command → 127, and the reason on stderr', async () => {
    const pf = pilotfish(['--', '/no/such/command'], { pid1 });
    expect(await pf.exited).toBe(127);
    expect(pf.stdout()).toBe('');
    expect(pf.stderr()).toMatch(/cannot run "\/no\/such\/command": no such file or directory/);
  });
});

it('prints nothing of its own: the output is exactly the command’s', async () => {
  const pf = pilotfish(['run', '--', 'sh', '-c', 'echo out; echo err >&2; exit 0']);
  expect(await pf.exited).toBe(0);
  expect(pf.stdout()).toBe('out\n');
  expect(pf.stderr()).toBe('err\n');
});

it('PILOTFISH_LOG_LEVEL=debug asks for its log, on stderr', async () => {
  const pf = pilotfish(['--', 'true'], { env: { PILOTFISH_LOG_LEVEL: 'debug' } });
  expect(await pf.exited).toBe(0);
  expect(pf.stdout()).toBe('');
  expect(pf.stderr()).toMatch(/init mode/);
});

it("the command's own options are its own, and a command named after -- too", async () => {
  const pf = pilotfish(['run', 'sh', '-c', 'echo "$0 $1"', '--help', '--config']);
  expect(await pf.exited).toBe(0);
  expect(pf.stdout()).toBe('--help --config\n');
});

describe.each([
  ['as PID 1', true],
  ['as a subreaper', false],
])('signals %s', (_label, pid1) => {
  it('every signal goes to the whole process group, TERM included (the command decides); TTIN/TTOU are not passed on; USR1 opens no inspector', async () => {
    const file = join(tmp(), 'signals');
    writeFileSync(file, '');
    const pf = pilotfish(['--', `${FIXTURES}/record-signals.sh`], { pid1, env: { SIGNAL_FILE: file } });
    await waitFor(() => pf.stdout().includes('ready'), { message: 'the command to be ready' });
    const pid = await pf.pid();
    const got = (sig: string, role: string) => lines(file).includes(`${sig} ${role}`);
    // TTIN and TTOU first: if they were passed on, the next signal would find them recorded.
    process.kill(pid, 'SIGTTIN');
    process.kill(pid, 'SIGTTOU');
    for (const sig of ['HUP', 'USR1', 'USR2', 'WINCH', 'ALRM', 'CONT', 'QUIT', 'INT', 'TSTP']) {
      process.kill(pid, `SIG${sig}` as NodeJS.Signals);
      await waitFor(() => got(sig, 'main'), { message: `SIG${sig} to reach the command` });
      // A background job of a non-interactive shell ignores INT and QUIT (POSIX), so the helper
      // shows only the others; it is in the group all the same.
      if (sig !== 'INT' && sig !== 'QUIT') await waitFor(() => got(sig, 'helper'), { message: `SIG${sig} to reach the helper in the group` });
    }
    expect(readProc(pid)?.state).not.toBe('T');
    process.kill(pid, 'SIGTERM');
    expect(await pf.exited).toBe(0);
    expect(got('TERM', 'main') && got('TERM', 'helper')).toBe(true);
    expect(lines(file).filter((l) => /^TT(IN|OU)/.test(l))).toEqual([]);
    expect(pf.stderr()).not.toMatch(/Debugger|inspector/i);
  });

  it('a command that ignores TERM keeps running (as under tini) and its exit code is kept', async () => {
    const dir = tmp();
    const gotTerm = join(dir, 'term');
    const pf = pilotfish(['--', 'sh', '-c', `trap 'touch ${gotTerm}' TERM; echo ready; while [ ! -e ${dir}/go ]; do sleep 0.02; done; exit 9`], { pid1 });
    await waitFor(() => pf.stdout().includes('ready'), { message: 'the command to be ready' });
    process.kill(await pf.pid(), 'SIGTERM');
    await waitFor(() => existsSync(gotTerm), { message: 'the command to get TERM' });
    writeFileSync(join(dir, 'go'), '');
    expect(await pf.exited).toBe(9);
  });
});

describe.each([
  ['as PID 1', true],
  ['as a subreaper', false],
])('reaping %s', (_label, pid1) => {
  it('orphans the command leaves are reaped while it runs', async () => {
    // 50 orphans re-parented to Pilotfish; the command waits until none of Pilotfish's children
    // is a zombie, then says how many orphans it saw.
    const script = `
      for i in $(seq 50); do (sleep 0.05 &) ; done
      parent=$PPID
      zombies() { for s in /proc/[0-9]*/stat; do read -r line < "$s" 2>/dev/null || continue; set -- \${line##*) }; [ "$1" = Z ] && [ "$2" = "$parent" ] && echo z; done | wc -l; }
      sleep 0.2
      while [ "$(zombies)" -gt 0 ]; do sleep 0.05; done
      echo reaped`;
    const pf = pilotfish(['--', 'sh', '-c', script], { pid1 });
    expect(await pf.exited).toBe(0);
    expect(pf.stdout()).toBe('reaped\n');
  });
});

describe('with a config, the trailing command is the main command', () => {
  it('replaces the main job’s command (ContainerPilot 2’s -config FILE APP ARGS, file:// too)', async () => {
    const dir = tmp();
    const config = join(dir, 'pilotfish.yaml');
    writeFileSync(config, 'logging: {level: warn}\njobs:\n  - name: app\n    main: true\n    exec: [sleep, "1000"]\n');
    expect(await pilotfish(['run', '--config', config, '--', `${FIXTURES}/exit-with.sh`, '6']).exited).toBe(6);
    expect(await pilotfish(['-config', `file://${config}`, `${FIXTURES}/exit-with.sh`, '7']).exited).toBe(7);
  });

  it('adds a main job when the config has none', async () => {
    const dir = tmp();
    const config = join(dir, 'pilotfish.yaml');
    writeFileSync(config, 'logging: {level: warn}\njobs:\n  - name: helper\n    exec: [sleep, "1000"]\n');
    expect(await pilotfish(['run', '-c', config, `${FIXTURES}/exit-with.sh`, '5']).exited).toBe(5);
  });
});
