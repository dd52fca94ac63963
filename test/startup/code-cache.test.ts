// The launcher (src/cli/launcher.cts, dist/cli/main.js) runs the bundle with V8's code cache for
// it: a `run` that finds none, or one V8 refuses, writes one as it exits; a run that finds a good
// one leaves it as it is; a cache that cannot be read or written never stops Pilotfish.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/pilotfish.js';

const dir = mkdtempSync(join(tmpdir(), 'pf-code-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'pilotfish.json');
writeFileSync(
  config,
  JSON.stringify({ logging: { level: 'warn' }, control: { socket: join(dir, 'control.sock') }, jobs: [{ name: 'app', main: true, exec: ['/bin/true'] }] }),
);

function pilotfish(cache: string, args: string[], execArgv: string[] = []): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [...execArgv, CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PILOTFISH_COMPILE_CACHE: cache },
  });
  return { status: r.status, stderr: r.stderr };
}
const codeFiles = (cache: string): string[] => readdirSync(cache).filter((f) => f.endsWith('.code'));

describe('the code cache of the bundle', () => {
  it('is written by a run that finds none, and then used as it is', () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    expect(pilotfish(cache, ['version']).status).toBe(0);
    expect(codeFiles(cache), 'a command other than run writes none').toEqual([]);
    const first = pilotfish(cache, ['run', '--config', config]);
    expect(first.status, first.stderr).toBe(0);
    const [file] = codeFiles(cache);
    expect(file).toMatch(new RegExp(`^pilotfish-[\\w-]+-${process.version}-${process.arch}-[0-9a-f]{8}\\.code$`));
    const before = statSync(join(cache, file!));
    expect(before.size).toBeGreaterThan(10_000);
    expect(pilotfish(cache, ['run', '--config', config]).status).toBe(0);
    const after = statSync(join(cache, file!));
    expect({ ino: after.ino, mtime: after.mtimeMs }, 'V8 took the cache: the run did not write it again').toEqual({ ino: before.ino, mtime: before.mtimeMs });
  });

  it('is replaced when V8 refuses it (a damaged file), and the run goes on', () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    expect(pilotfish(cache, ['run', '--config', config]).status).toBe(0);
    const [file] = codeFiles(cache);
    writeFileSync(join(cache, file!), Buffer.alloc(4096, 7));
    const r = pilotfish(cache, ['run', '--config', config]);
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(join(cache, file!)).size).toBeGreaterThan(10_000);
  });

  it('is kept apart for other Node flags, so that two sets of flags do not rewrite one file in turn', () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    expect(pilotfish(cache, ['run', '--config', config]).status).toBe(0);
    expect(pilotfish(cache, ['run', '--config', config], ['--stack-size=900']).status).toBe(0);
    expect(codeFiles(cache)).toHaveLength(2);
  });

  it('never stops Pilotfish: a directory that cannot be made, or "off"', () => {
    for (const cache of ['/dev/null/cache', 'off']) {
      const r = pilotfish(cache, ['run', '--config', config]);
      expect(r.status, `${cache}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toBe('');
    }
  });
});
