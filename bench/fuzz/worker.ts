/**
 * A fuzz worker: runs config cases [from, to) through the real loader and reports each outcome
 * to its parent (bench/fuzz/run.ts) over IPC, which kills it when a case hangs.
 */
import { check, corpus, makeCase } from '../../test/fuzz/engine.js';

interface Job {
  from: number;
  to: number;
  seed: number;
}

process.on('message', async (job: Job) => {
  const seeds = corpus();
  for (let i = job.from; i < job.to; i++) {
    process.send?.({ type: 'start', i });
    const c = makeCase(seeds, job.seed * 1_000_003 + i);
    const started = performance.now();
    const outcome = await check(c.bytes);
    const ms = performance.now() - started;
    process.send?.({
      type: 'done',
      i,
      name: c.name,
      ms,
      outcome: outcome.kind === 'refused' ? outcome.code : outcome.kind,
      error: outcome.kind === 'internal' ? outcome.error : undefined,
    });
  }
  process.send?.({ type: 'end', maxRssKiB: process.resourceUsage().maxRSS }, () => process.exit(0));
});
