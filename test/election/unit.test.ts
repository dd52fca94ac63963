// The election's config rules and its stall watchdog, without Consul.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { StallWatchdog } from '../../src/election/watchdog.js';

const JOBS = `jobs:
  - name: db
    main: true
    exec: sleep 1
  - name: promote
    when: {source: election, each: elected}
    exec: ["true"]
`;

function rejects(election: string): string {
  try {
    parseConfig(`${JOBS}election:\n${election}`, 'x.yaml', {});
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('election config', () => {
  it('has safe defaults and accepts election as an event source for hooks', () => {
    const config = parseConfig(`${JOBS}election: {}\n`, 'x.yaml', {});
    expect(config.election).toMatchObject({ ttl: 10_000, lockDelay: 1_000, behavior: 'release', watchdog: { margin: 2_000, action: 'demote' } });
    expect(config.election?.checks).toBeUndefined();
  });

  it('refuses a TTL Consul would refuse, and a lock-delay over 60s', () => {
    expect(rejects('  ttl: 5s\n')).toMatch(/10s to 24h/);
    expect(rejects('  ttl: 2500ms\n')).toMatch(/10s to 24h|whole seconds/);
    expect(rejects('  lockDelay: 2m\n')).toMatch(/60s/);
    expect(rejects('  ttl: 10s\n  watchdog: {margin: 10s}\n')).toMatch(/shorter than the ttl/);
  });

  it('rejects hooks on the election source when there is no election section', () => {
    expect(() => parseConfig(JOBS, 'x.yaml', {})).toThrow(/election/);
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
