// Init mode on a terminal, as `docker run -it image bash` gives one: the command gets the
// terminal as its foreground process group, so an interactive bash has job control, Ctrl-C and
// Ctrl-Z reach what it runs, and nothing of Pilotfish's own shows. Driven through a real
// pseudo-terminal (test/fixtures/pty-run.py), as Pilotfish's child and as PID 1.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, FIXTURES, ROOT } from '../helpers/pilotfish.js';

/** Run `argv` on a new pty with expect/send steps; resolves with the exit code and the screen. */
function onTerminal(steps: Array<['expect' | 'send' | 'poke', string]>, argv: string[]): Promise<{ code: number | null; screen: string }> {
  const args = [`${FIXTURES}/pty-run.py`, '--timeout', '40', ...steps.flatMap(([kind, text]) => [`--${kind}`, text]), '--', ...argv];
  const child = spawn('python3', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, screen })));
}

const bash = ['env', 'PS1=PROMPT> ', 'bash', '--norc', '--noprofile', '-i'];

describe.each([
  ['as its child', [process.execPath, CLI, '--']],
  ['as PID 1', ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, CLI, 'run', '--']],
])('an interactive bash under Pilotfish %s', (_label, pilotfish) => {
  it('has job control: Ctrl-C ends the foreground job, Ctrl-Z stops it (bash keeps it as a job); its exit code is kept', async () => {
    const { code, screen } = await onTerminal(
      [
        ['expect', 'PROMPT>'],
        // The marker is split in the typed line, so only the command's own output matches.
        ['send', "sh -c 'echo ST''ARTED; exec sleep 1000'\r"],
        ['expect', 'STARTED'],
        ['poke', '\\x03'],
        ['expect', 'PROMPT>'],
        ['send', 'echo code=$?\r'],
        ['expect', 'code=130'],
        ['send', "sh -c 'echo ST''OPME; exec sleep 1000'\r"],
        ['expect', 'STOPME'],
        ['poke', '\\x1a'],
        ['expect', 'Stopped'],
        // bash keeps a stopped job: the first exit only warns, the second one exits.
        ['send', 'exit 7\r'],
        ['expect', 'stopped jobs'],
        ['send', 'exit 7\r'],
      ],
      [...pilotfish, ...bash],
    );
    expect(screen).not.toMatch(/no job control|cannot set terminal process group/);
    expect(screen).not.toMatch(/pilotfish|"level"|\b(INFO|WARN|ERROR)\b/);
    expect(code).toBe(7);
  });

  it('the command is the foreground process group of the terminal', async () => {
    const { code, screen } = await onTerminal(
      [],
      [...pilotfish, 'sh', '-c', 'echo "fg=$(ps -o tpgid= $$ | tr -d " ") pgrp=$(ps -o pgid= $$ | tr -d " ")"; exit 3'],
    );
    const m = /fg=(\d+) pgrp=(\d+)/.exec(screen);
    expect(m?.[1]).toBeDefined();
    expect(m?.[1]).toBe(m?.[2]);
    expect(code).toBe(3);
  });
});
