// The election's config rules and its stall watchdog, without Consul.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/top/config.js';
import { measureRank } from '../../src/election/gate.js';
import { rankVerdict, type CandidateEntry } from '../../src/election/rank.js';
import { createLogger } from '../../src/kernel/logger.js';
import { StallWatchdog } from '../../src/election/watchdog.js';

const JOBS = `jobs:
  - name: db
    main: true
    exec: sleep 1
  - name: promote
    when: {source: election, each: elected}
    exec: ["true"]
`;

async function rejects(election: string): Promise<string> {
  try {
    await parseConfig(`${JOBS}election:\n${election}`, 'x.yaml', {});
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('election config', () => {
  it('has safe defaults and accepts election as an event source for hooks', async () => {
    const config = await parseConfig(`${JOBS}election: {}\n`, 'x.yaml', {});
    expect(config.election).toMatchObject({ ttl: 10_000, lockDelay: 1_000, behavior: 'release', watchdog: { margin: 2_000, action: 'demote' } });
    expect(config.election?.checks).toBeUndefined();
  });

  it('refuses a TTL Consul would refuse, and a lock-delay over 60s', async () => {
    expect(await rejects('  ttl: 5s\n')).toMatch(/10s to 24h/);
    expect(await rejects('  ttl: 2500ms\n')).toMatch(/10s to 24h|whole seconds/);
    expect(await rejects('  lockDelay: 2m\n')).toMatch(/60s/);
    expect(await rejects('  ttl: 10s\n  watchdog: {margin: 10s}\n')).toMatch(/shorter than the ttl/);
  });

  it('takes a rank command with defaults', async () => {
    const config = await parseConfig(`${JOBS}election:\n  rank: {exec: "print-rank"}\n`, 'x.yaml', {});
    expect(config.election?.rank).toMatchObject({ exec: 'print-rank', timeout: 5_000, interval: 2_000, maxWait: 20_000 });
    expect(await rejects('  rank: {exec: x, every: 1s}\n')).toMatch(/every/);
  });

  it('rejects hooks on the election source when there is no election section', async () => {
    await expect(parseConfig(JOBS, 'x.yaml', {})).rejects.toThrow(/election/);
  });
});

describe('rank verdict', () => {
  // The key was seen free at Consul index 100, 1 s ago; maxWait 20 s.
  const verdict = (self: string, entries: CandidateEntry[], waitedMs = 1_000): ReturnType<typeof rankVerdict> =>
    rankVerdict({ self, entries, freeIndex: 100, waitedMs, maxWaitMs: 20_000 });
  const fresh = (id: string, rank: number): CandidateEntry => ({ id, rank, modifyIndex: 101 });
  const stale = (id: string, rank: number): CandidateEntry => ({ id, rank, modifyIndex: 50 });

  it('lets only the highest rank run; ties go to the smaller id', async () => {
    const all = [fresh('a', 5), fresh('b', 9), fresh('c', 7)];
    expect(verdict('b', all).go).toBe(true);
    expect(verdict('a', all)).toEqual({ go: false, reason: 'b ranks higher (9 vs 5)' });
    expect(verdict('c', all).go).toBe(false);
    const tie = [fresh('b', 9), fresh('a', 9)];
    expect(verdict('a', tie).go).toBe(true);
    expect(verdict('b', tie).reason).toBe('a ranks higher (9 vs 9)');
  });

  it('does not run before its own rank is published for this vacancy', async () => {
    expect(verdict('a', []).go).toBe(false);
    expect(verdict('a', [stale('a', 9)]).go).toBe(false);
    expect(verdict('a', [stale('a', 9)], 60_000).go).toBe(false); // even after maxWait
  });

  it('waits for a candidate that has not published since the key became free, up to maxWait', async () => {
    // b's rank of 3 is from before the vacancy: it may have moved past a's 5 since.
    expect(verdict('a', [fresh('a', 5), stale('b', 3)])).toEqual({ go: false, reason: 'waiting for b to publish a fresh rank' });
    expect(verdict('a', [fresh('a', 5), stale('b', 3)], 20_000).go).toBe(true);
    // A stale entry that already ranks higher holds the others back too.
    expect(verdict('a', [fresh('a', 5), stale('b', 8)]).reason).toBe('b ranks higher (8 vs 5)');
  });

  it('waits for a higher-ranked candidate that does not take the key only up to maxWait', async () => {
    expect(verdict('a', [fresh('a', 5), fresh('b', 8)], 19_999).go).toBe(false);
    expect(verdict('a', [fresh('a', 5), fresh('b', 8)], 20_000).go).toBe(true);
  });
});

describe('rank command', () => {
  const log = createLogger({ level: 'silent' });
  const rank = (script: string, timeout = 5_000): ReturnType<typeof measureRank> =>
    measureRank({ exec: ['/bin/sh', '-c', script], timeout, interval: 2_000, maxWait: 20_000 }, { PATH: process.env.PATH ?? '' }, log);

  it('takes the last line of its output that is a number', async () => {
    expect(await rank('echo "gtid 0-1-7"; echo 41; echo "checked" >&2; echo 42')).toEqual({ rank: 42 });
    expect(await rank('echo 7; echo done')).toEqual({ rank: 7 });
  });

  it('fails without a number, on a non-zero exit, and after its timeout', async () => {
    expect(await rank('echo none')).toMatchObject({ error: expect.stringMatching(/printed no number/) });
    expect(await rank('echo 5; exit 3')).toMatchObject({ error: expect.stringMatching(/exited with 3/) });
    expect(await rank('sleep 5; echo 1', 200)).toMatchObject({ error: expect.stringMatching(/timed out after 200ms/) });
  });
});

describe('stall watchdog', () => {
  it('reports a blocked event loop once it runs again', async () => {
    const stalls: number[] = [];
    const dog = new StallWatchdog(300, (ms) => stalls.push(ms));
    dog.start();
    await new Promise((r) => setTimeout(r, 150));
    const until = Date.now() + 700;
    while (Date.now() < until) {
      // block the loop
    }
    await new Promise((r) => setTimeout(r, 250));
    dog.stop();
    expect(stalls).toHaveLength(1);
    expect(stalls[0]).toBeGreaterThan(300);
    expect(dog.status()).toMatchObject({ stalls: 1 });
  });

  it('stays quiet while the loop is responsive', async () => {
    const stalls: number[] = [];
    const dog = new StallWatchdog(2_000, (ms) => stalls.push(ms)); // generous: CI machines are busy
    dog.start();
    await new Promise((r) => setTimeout(r, 600));
    dog.stop();
    expect(stalls).toEqual([]);
  });
});
