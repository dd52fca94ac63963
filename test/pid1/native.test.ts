// The reaper's native calls (src/pid1/native.ts) through the build's addon (src/pid1/native.c,
// dist/native/pid1.node) and through koffi, its fallback: the same answers on a real orphan.
// Each runs in a child process, which makes itself a child subreaper.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADDON, ROOT } from '../helpers/pilotfish.js';

const PROBE = join(ROOT, 'test/fixtures/native-probe.ts');

function probe(which: string): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', PROBE, which], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

const expected = {
  subreaper: true,
  isSubreaper: true,
  reaped: 1,
  reapedTheOrphan: true,
  status: 0,
  nothingLeft: true,
  batchStopsAtOwned: true,
  ownedLeftUnreaped: true,
  batchFillsNoMore: 1,
  batchReapsTheRest: 1,
  batchReapedBoth: true,
  batchStatuses: [0, 0],
};

describe('native calls', () => {
  it('the build made the addon (a C compiler is part of the CI setup)', () => {
    if (process.env.CI) expect(existsSync(ADDON), `${ADDON} (scripts/build.mjs compiles it with cc)`).toBe(true);
  });

  it.skipIf(!existsSync(ADDON))('the addon: becomes a subreaper, reaps orphans, leaves the ones libuv owns unreaped', () => {
    expect(probe(ADDON)).toEqual(expected);
  });

  it('koffi, the fallback, answers the same', () => {
    expect(probe('koffi')).toEqual(expected);
  });

  it('an addon that cannot load, or is not ours, leaves koffi to do the work', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-native-'));
    writeFileSync(join(dir, 'broken.node'), 'not a shared object');
    expect(probe(join(dir, 'broken.node'))).toEqual(expected);
    expect(probe(join(ROOT, 'package.json'))).toEqual(expected);
  });
});
