/**
 * kill -9 at random points of real `pilotfish backup` and `pilotfish restore` processes, each
 * round checked (test/backup/faults.ts): nothing lost, the newest good snapshot always chosen,
 * nothing of a killed restore left behind. A fixed seed; bench/faults/backup-kill.ts runs the
 * same rounds a thousand times.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { describeWithServices } from '../helpers/services.js';
import { KillHarness, type RoundResult } from './faults.js';
import { removeTempDirs, type StoreKind } from './helpers.js';

const ROUNDS = Number(process.env.PF_BACKUP_KILL_ROUNDS ?? 12);

function killSuite(store: StoreKind): void {
  it(`${ROUNDS} rounds of kill -9 in backups and restores lose nothing (${store})`, async () => {
    const harness = new KillHarness({ store, seed: 18, files: 60 });
    const results: RoundResult[] = [];
    try {
      await harness.setup();
      results.push(await harness.first());
      for (let i = 1; i < ROUNDS; i++) results.push(await harness.next());
    } finally {
      harness.close();
    }
    expect(results.flatMap((r) => r.errors.map((e) => `round ${r.round} (${r.kind}, kill at ${r.delayMs} ms): ${e}`))).toEqual([]);
    // Kills must really land in both kinds of run, or the test proves nothing.
    expect(results.filter((r) => r.kind === 'backup' && r.killed).length).toBeGreaterThan(0);
    expect(results.filter((r) => r.kind === 'restore' && r.killed).length).toBeGreaterThan(0);
  }, 120_000);
}

afterAll(removeTempDirs);

describe('backup and restore under kill -9 (local store)', () => killSuite('local'));
describeWithServices('backup and restore under kill -9 (S3)', ['s3'], () => killSuite('s3'));
