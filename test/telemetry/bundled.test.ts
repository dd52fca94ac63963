// dist/ is minified by Rolldown, which renames classes: the metric helpers must still recognise
// a metric they created before (get-or-create), or a subsystem's second error would throw.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'rolldown';
import { describe, expect, it } from 'vitest';

describe('metric helpers in a minified bundle', () => {
  it('get-or-create works when class names are mangled', async () => {
    const out = await build({
      input: resolve(import.meta.dirname, '../../src/telemetry/metrics.ts'),
      platform: 'node',
      write: false,
      logLevel: 'silent',
      output: { format: 'esm', minify: true },
    });
    const file = join(mkdtempSync(join(tmpdir(), 'pf-bundle-')), 'metrics.mjs');
    writeFileSync(file, out.output[0].code);
    const m = (await import(pathToFileURL(file).href)) as typeof import('../../src/telemetry/metrics.js');
    const sink = m.prometheusSink();
    const errors = { kind: 'counter', name: 'pilotfish_vault_errors_total', help: 'x', labels: ['operation'] } as const;
    const duration = { kind: 'histogram', name: 'pilotfish_backup_duration_seconds', help: 'x', labels: ['result'] } as const;
    sink.inc(errors, { operation: 'register' });
    sink.inc(errors, { operation: 'register' });
    sink.observe(duration, 1, { result: 'success' });
    sink.observe(duration, 1, { result: 'success' });
    expect(m.gauge('pilotfish_election_primary', 'x')).toBe(m.gauge('pilotfish_election_primary', 'x'));
    expect(() => m.gauge('pilotfish_vault_errors_total', 'x')).toThrow(/another type/);
    expect(await m.exposition()).toMatch(/^pilotfish_vault_errors_total\{operation="register"\} 2$/m);
  });
});
