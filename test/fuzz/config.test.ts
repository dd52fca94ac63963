// Config fuzzing in CI (issue 18, "What to build" 5): 1,000 structure-aware mutations of the
// examples' and docs' configs through the real loader in-process, and a sample through the real
// CLI. Every case must be a valid config or a config error: no internal error, no hang.
// FUZZ_SEED changes the cases (default 1); the long run is bench/fuzz/run.ts.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/pilotfish.js';
import { check, corpus, FUZZ_ENV, makeCase } from './engine.js';

const SEED = Number(process.env.FUZZ_SEED ?? 1);
const CASES = 1000;
const CLI_SAMPLE = 24;
/** A case slower than this counts as a hang (a linear loader needs milliseconds). */
const CASE_LIMIT_MS = 5_000;

describe('config fuzzing', () => {
  it(`${CASES} mutated configs: each valid or a config error, none slow`, async () => {
    const seeds = corpus();
    expect(seeds.length).toBeGreaterThanOrEqual(10);
    const internal: string[] = [];
    const slow: string[] = [];
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < CASES; i++) {
      const c = makeCase(seeds, SEED * 1_000_003 + i);
      const started = performance.now();
      const outcome = await check(c.bytes);
      const ms = performance.now() - started;
      outcomes[outcome.kind === 'refused' ? outcome.code : outcome.kind] = (outcomes[outcome.kind === 'refused' ? outcome.code : outcome.kind] ?? 0) + 1;
      if (outcome.kind === 'internal') internal.push(`${c.name}: ${outcome.error.split('\n').slice(0, 4).join(' | ')}`);
      if (ms > CASE_LIMIT_MS) slow.push(`${c.name}: ${Math.round(ms)}ms`);
    }
    console.log(`fuzz seed ${SEED}: ${CASES} cases ${JSON.stringify(outcomes)}; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
    expect(internal).toEqual([]);
    expect(slow).toEqual([]);
    expect(outcomes.valid).toBeGreaterThan(0);
  }, 180_000);

  it(`a sample of ${CLI_SAMPLE} through the real CLI: exit 0 or 1, never a trace`, async () => {
    const seeds = corpus();
    const dir = mkdtempSync(join(tmpdir(), 'pf-fuzz-'));
    const results = await Promise.all(
      Array.from({ length: CLI_SAMPLE }, (_, i) => {
        const c = makeCase(seeds, SEED * 7_919 + i);
        const file = join(dir, `case-${i}.yaml`);
        writeFileSync(file, c.bytes);
        return new Promise<string | undefined>((resolve) => {
          execFile(
            process.execPath,
            [CLI, 'validate', '--config', file],
            { env: { ...process.env, ...FUZZ_ENV }, timeout: 60_000 },
            (error, _stdout, stderr) => {
              const code = error ? (typeof error.code === 'number' ? error.code : String(error.signal ?? error.code)) : 0;
              resolve(code === 0 || (code === 1 && !/internal error|\n\s+at /.test(stderr)) ? undefined : `${c.name}: exit ${code}: ${stderr.slice(0, 500)}`);
            },
          );
        });
      }),
    );
    expect(results.filter(Boolean)).toEqual([]);
  }, 180_000);
});
