// EPIPE on stdout is a quiet exit for every CLI command (issue 18 item 11): `pilotfish schema |
// head -1` used to die with a stack trace and exit 1.
import { execFile, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, killAll } from '../helpers/pilotfish.js';
import { startControlled } from './harness.js';

afterEach(killAll);

/** Runs the CLI with its stdout closed by the reader at once; resolves with code and stderr. */
function closedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('EPIPE', () => {
  it('`pilotfish schema | head -1` prints one line and exits 0, quietly', async () => {
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" schema | head -1`], (error, stdout, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
      );
    });
    expect(out).toEqual({ code: 0, stdout: '{\n', stderr: '' });
  });

  it.each([['schema'], ['help'], ['version'], ['help', 'run']])('%s with a closed stdout exits 0 without a trace', async (...args) => {
    expect(await closedStdout(args)).toEqual({ code: 0, stderr: '' });
  });

  it('status --json with a closed stdout exits 0 without a trace', async () => {
    const pf = await startControlled({ jobs: [{ name: 'app', main: true, exec: ['sleep', '1000'] }] });
    expect(await closedStdout(['status', '--json', '--socket', pf.socket])).toEqual({ code: 0, stderr: '' });
  });
});
