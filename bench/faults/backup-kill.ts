/**
 * Backup and restore under kill -9, at scale: the rounds of test/backup/faults.ts (a real
 * `pilotfish backup --direct` or `pilotfish restore --policy always`, killed after a random
 * delay from a seeded generator, then checked: every snapshot reads, the newest good one is
 * restored whole, a killed restore leaves the old tree or the new one and nothing beside it).
 *
 * Needs a built dist/ (node scripts/build.mjs) and, for S3, the variables of a running MinIO
 * (eval "$(scripts/services up --only minio)").
 *
 *   npx tsx bench/faults/backup-kill.ts [--rounds 1000] [--store s3|local] [--seed 1] [--out FILE.jsonl]
 *
 * Prints one line per 50 rounds and a summary (markdown) at the end; exit 1 on any failed check.
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KillHarness, type RoundResult } from '../../test/backup/faults.js';
import { removeTempDirs } from '../../test/backup/helpers.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1000' },
    store: { type: 'string', default: 's3' },
    seed: { type: 'string', default: '1' },
    files: { type: 'string', default: '120' },
    out: { type: 'string', default: '' },
  },
});
const ROUNDS = Number(values.rounds);
const store = values.store === 'local' ? 'local' : 's3';
const harness = new KillHarness({ store, seed: Number(values.seed), files: Number(values.files) });
const results: RoundResult[] = [];
const started = Date.now();

function record(r: RoundResult): void {
  results.push(r);
  if (values.out) appendFileSync(values.out, `${JSON.stringify({ ...r, delayMs: Number.isFinite(r.delayMs) ? r.delayMs : null })}\n`);
  for (const e of r.errors) console.log(`round ${r.round} (${r.kind}, kill at ${r.delayMs} ms): ${e}`);
  if (r.round % 50 === 0) {
    const failed = results.filter((x) => x.errors.length > 0).length;
    console.log(
      `${new Date().toISOString()} round ${r.round}: ${results.filter((x) => x.killed).length} killed, ${failed} failed, ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  }
}

try {
  await harness.setup();
  record(await harness.first());
  for (let i = 1; i < ROUNDS; i++) record(await harness.next());
} finally {
  harness.close();
  removeTempDirs();
}

const of = (kind: string) => results.filter((r) => r.kind === kind);
const killed = (rs: RoundResult[]) => rs.filter((r) => r.killed);
const failed = results.filter((r) => r.errors.length > 0);
const backups = of('backup');
const restores = of('restore');
const killedBackups = killed(backups);
const killedRestores = killed(restores);
// Where the kills landed: did the killed backup still publish its snapshot, did the killed restore already swap?
const backupPublished = killedBackups.filter((r) => r.version === r.round).length;
const restoreSwapped = killedRestores.filter((r) => r.old === false).length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log(`\n### ${ROUNDS} rounds, store ${store}, seed ${values.seed}, ${((Date.now() - started) / 60000).toFixed(1)} min\n`);
console.log('| rounds | kill -9 injected | killed before its snapshot / swap | killed after it | checks failed |');
console.log('|---|---|---|---|---|');
console.log(
  `| backup: ${backups.length} | ${killedBackups.length} | ${killedBackups.length - backupPublished} (the previous snapshot restored) | ${backupPublished} | ${backups.filter((r) => r.errors.length).length} |`,
);
console.log(
  `| restore: ${restores.length} | ${killedRestores.length} | ${killedRestores.length - restoreSwapped} (old tree intact) | ${restoreSwapped} (new tree whole) | ${restores.filter((r) => r.errors.length).length} |`,
);
console.log(
  `\nmedian round: backup ${median(backups.map((r) => r.ms))} ms, restore ${median(restores.map((r) => r.ms))} ms; kill -9 injected in ${killedBackups.length + killedRestores.length} of ${results.length} rounds`,
);
process.exitCode = failed.length > 0 ? 1 : 0;
