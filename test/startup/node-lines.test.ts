// The quickstart on the other supported Node lines (22 and 26; the suite itself runs on 24), as a
// user runs it: started from the repository root, healthy, then Ctrl-C (SIGINT): preStop (drain),
// the app's SIGTERM, postStop (goodbye), exit 0. The Node binaries come from
// `scripts/services node 22|26` (scripts/test-all fetches them); the app and its hooks run on the
// same Node, first on PATH.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'pf-node-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function nodeOf(major: number): string | undefined {
  const r = spawnSync(join(ROOT, 'scripts/services'), ['which', `node${major}`], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Line {
  msg: string;
  job?: string;
  exitCode?: number;
}

describe.each([22, 26])('the quickstart on Node %i', (major) => {
  const node = nodeOf(major);
  // In CI a missing Node is a failure, not a skip: scripts/test-all installs both.
  it.skipIf(!node && !process.env.CI)('starts, turns healthy and stops in order on Ctrl-C, exit 0', async () => {
    expect(node, `Node ${major} is not installed (run: scripts/services node ${major})`).toBeDefined();
    const port = await freePort();
    const child = spawn(node as string, [CLI, 'run', '--config', 'examples/quickstart/pilotfish.yaml'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PATH: `${dirname(node as string)}:${process.env.PATH}`,
        PORT: String(port),
        STATE_DIR: join(dir, `state-${major}`),
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Line[] = [];
    let text = '';
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) {
        text += `${part}\n`;
        try {
          lines.push(JSON.parse(part) as Line);
        } catch {
          // not a log line
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => lines.some((l) => l.job === 'on-healthy' && l.msg.startsWith('app is healthy')), {
        timeout: 45_000,
        message: `a healthy app; output:\n${text}`,
      });
      expect(spawnSync(node as string, ['--version'], { encoding: 'utf8' }).stdout).toMatch(new RegExp(`^v${major}\\.`));
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`no exit 30 s after SIGINT; output:\n${text}`)), 30_000);
        void exited.then((c) => {
          clearTimeout(deadline);
          resolve(c);
        });
      });
      expect(code, text).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    const at = (pred: (l: Line) => boolean, what: string): number => {
      const i = lines.findIndex(pred);
      expect(i, `${what}; output:\n${text}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    const sigint = at((l) => l.msg === 'stopping: received SIGINT', 'the SIGINT');
    const drained = at((l) => l.job === 'drain' && l.msg.startsWith('draining'), 'preStop (drain)');
    const appStopped = at((l) => l.job === 'app' && l.msg.startsWith('SIGTERM: saved state'), "the app's SIGTERM");
    const goodbye = at((l) => l.job === 'goodbye' && l.msg.startsWith('app stopped'), 'postStop (goodbye)');
    const stopped = at((l) => l.msg === 'stopped' && l.exitCode === 0, 'the final "stopped", exitCode 0');
    expect([sigint, drained, appStopped, goodbye, stopped]).toEqual([...[sigint, drained, appStopped, goodbye, stopped]].sort((a, b) => a - b));
  });
});
