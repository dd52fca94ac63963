// dist/ is minified by esbuild, which renames classes: the metric helpers must still recognise
// a metric they created before (get-or-create), or a subsystem's second error would throw.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('metric helpers in a minified bundle', () => {
  it('get-or-create works when class names are mangled', async () => {
    const out = await build({
      entryPoints: [resolve(import.meta.dirname, '../../src/telemetry/metrics.ts')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'node',
      write: false,
      banner: { js: "import{createRequire as __r}from'node:module';const require=__r(import.meta.url);" },
      logLevel: 'silent',
    });
    const file = join(mkdtempSync(join(tmpdir(), 'pf-bundle-')), 'metrics.mjs');
    writeFileSync(file, out.outputFiles[0]?.text ?? '');
    const m = (await import(pathToFileURL(file).href)) as typeof import('../../src/telemetry/metrics.js');
    m.metrics.consulErrors().inc({ operation: 'register' });
    m.metrics.consulErrors().inc({ operation: 'register' });
    m.metrics.backupDuration().observe({ result: 'success' }, 1);
    m.metrics.backupDuration().observe({ result: 'success' }, 1);
    expect(m.metrics.electionPrimary()).toBe(m.metrics.electionPrimary());
    expect(() => m.gauge('pilotfish_consul_errors_total', 'x')).toThrow(/another type/);
    expect(await m.exposition()).toMatch(/^pilotfish_consul_errors_total\{operation="register"\} 2$/m);
  });
});
