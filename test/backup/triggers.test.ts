/**
 * The max-age trigger ("no snapshot older than maxAge") on its own, with fake timers, then
 * `primaryOnly` in running instances elected through the real Consul: the primary backs up on
 * max age, a replica's activity is ignored, and the replica takes over the backups when it is
 * elected.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { snapshotTime } from '../../src/backup/format.js';
import { MaxAgeTrigger } from '../../src/backup/triggers.js';
import { killAll, startPilotfish, type LogLine, type Running } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { rawConfigFor, removeTempDirs, tempDir } from './helpers.js';

afterAll(() => removeTempDirs());

describe('max-age trigger', () => {
  afterEach(() => vi.useRealTimers());

  /** A trigger over a store whose newest snapshot is `newest` (ms, fake clock), firing into `fired`. */
  function setup(maxAge: number, accept = true) {
    vi.useFakeTimers({ now: 1_000_000 });
    const state = { newest: undefined as number | undefined, fired: [] as number[], accept };
    const trigger = new MaxAgeTrigger({ maxAge, newest: async () => state.newest, retry: 5_000 }, () => {
      state.fired.push(Date.now());
      return state.accept;
    });
    return { state, trigger };
  }

  it('with no snapshot, fires maxAge after the start; a backup re-arms it for maxAge later', async () => {
    const { state, trigger } = setup(60_000);
    trigger.restart();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(state.fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.fired).toEqual([1_060_000]);
    state.newest = Date.now();
    trigger.backedUp();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(state.fired).toEqual([1_060_000, 1_120_000]);
    await trigger.close();
  });

  it("counts from the store's newest snapshot, whoever made it", async () => {
    const { state, trigger } = setup(60_000);
    state.newest = 1_000_000 - 50_000; // 50 s old at start
    trigger.restart();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(state.fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.fired).toEqual([1_010_000]);
    // Another instance backed up meanwhile: the check finds it and waits for that one to age.
    state.newest = Date.now();
    trigger.failed(); // our own attempt failed (e.g. the lease was busy): look again in 5 s
    await vi.advanceTimersByTimeAsync(5_000);
    expect(state.fired).toEqual([1_010_000]);
    await vi.advanceTimersByTimeAsync(55_000);
    expect(state.fired).toEqual([1_010_000, 1_070_000]);
    await trigger.close();
  });

  it('an old snapshot at start fires at once; declined (a replica), it waits for the next restart', async () => {
    const { state, trigger } = setup(60_000, false);
    state.newest = 0;
    trigger.restart();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.fired).toEqual([1_000_000]);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(state.fired).toHaveLength(1);
    state.accept = true;
    trigger.restart(); // elected
    await vi.advanceTimersByTimeAsync(0);
    expect(state.fired).toEqual([1_000_000, 1_600_000]);
    await trigger.close();
    trigger.backedUp();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(state.fired).toHaveLength(2);
  });
});

describeWithServices('backup.primaryOnly with a real election', ['consul'], () => {
  afterAll(async () => {
    await killAll();
  });

  const backups = (pf: Running): LogLine[] => pf.logs.filter((l) => /^backed up/.test(l.msg));

  it('only the primary backs up (max age); a replica ignores its activity until it is elected', async () => {
    const repoId = `primary-only-${randomBytes(4).toString('hex')}`;
    const key = `test/backup-primary-only/${repoId}`;
    const maxAge = 1_500;
    const instance = (_name: string): { pf: Running; data: string } => {
      const data = tempDir();
      const backup = rawConfigFor(
        'local',
        data,
        { primaryOnly: true, triggers: { maxAge: `${maxAge}ms`, activity: { quiet: '200ms', maxDelay: '5s' } } },
        repoId,
      );
      const pf = startPilotfish({
        consul: { address: services().CONSUL_HTTP_ADDR },
        election: { key, ttl: '10s', lockDelay: '0s' },
        jobs: [{ name: 'app', exec: 'sleep 1000', main: true, port: 9000 }],
        backup,
      });
      return { pf, data };
    };

    const a = instance('a');
    await a.pf.waitForLog(/^elected primary/, 20_000);
    const b = instance('b');
    await b.pf.waitForLog('watching for activity', 20_000);

    // The primary: no snapshot yet, so the first max-age backup comes maxAge after it was elected,
    // then one per maxAge of the newest snapshot's age.
    const [first, second] = (await waitFor(() => (backups(a.pf).length >= 2 ? backups(a.pf) : undefined), {
      timeout: 20_000,
      message: 'two max-age backups on the primary',
    })) as LogLine[];
    expect(first?.reason).toBe('max-age');
    expect(second?.reason).toBe('max-age');
    const t1 = snapshotTime(String(first?.snapshot))?.getTime() ?? 0;
    const t2 = snapshotTime(String(second?.snapshot))?.getTime() ?? 0;
    expect(t2 - t1).toBeGreaterThanOrEqual(maxAge);

    // The replica: its files change, the trigger fires and is ignored.
    await writeFile(join(b.data, 'replica-activity.txt'), 'written on the replica');
    await b.pf.waitForLog((l) => l.msg.startsWith('backup trigger ignored') && l.reason === 'activity');
    expect(backups(b.pf)).toEqual([]);

    // The primary goes; the replica is elected and takes over: the store's newest snapshot is
    // the old primary's, so its first max-age backup is due within maxAge.
    await a.pf.signal('SIGTERM');
    await a.pf.exited;
    await b.pf.waitForLog(/^elected primary/, 30_000);
    const taken = await b.pf.waitForLog((l) => /^backed up/.test(l.msg) && l.reason === 'max-age', 20_000);
    expect(taken.snapshot).toBeDefined();
  }, 90_000);
});
