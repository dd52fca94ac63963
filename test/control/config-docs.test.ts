// docs/configuration.md is generated from the schema; this fails when someone changed a schema
// without regenerating it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC_PATH, REGENERATE, renderConfigDocs } from '../../scripts/gen-config-docs.js';

describe('docs/configuration.md', () => {
  it('is up to date with the config schema', () => {
    const current = readFileSync(DOC_PATH, 'utf8');
    const fresh = renderConfigDocs();
    if (current !== fresh) expect.fail(`docs/configuration.md is stale: run \`${REGENERATE}\` and commit the result`);
  });

  it('documents every top-level section and nested keys', () => {
    const doc = renderConfigDocs();
    for (const key of ['jobs', 'signals', 'control', 'telemetry']) expect(doc).toContain(`## \`${key}\``);
    expect(doc).toContain('| `jobs[].health.interval` | duration |');
    expect(doc).toContain('| `telemetry.metrics[].type` | "counter" \\| "gauge" | yes |');
  });
});
