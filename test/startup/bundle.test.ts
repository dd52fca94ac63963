// The shape of dist/cli that the launcher and the restore's worker threads rely on
// (scripts/build.mjs): the bundle holds the run path and its top level runs the CLI, so the
// worker's entry must not load it (a worker would run the CLI again: `restore` printed the help).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleOf, ROOT } from '../helpers/pilotfish.js';

const CLI_DIR = join(ROOT, 'dist/cli');
const bundle = bundleOf();

describe('dist/cli', () => {
  it('the launcher names its bundle, CommonJS, ASCII only', () => {
    expect(bundle).toBeDefined();
    expect(JSON.parse(readFileSync(join(CLI_DIR, 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    const text = readFileSync(join(CLI_DIR, bundle!), 'latin1');
    expect(/[^\x00-\x7f]/.test(text), 'a non-ASCII byte in the bundle').toBe(false);
  });

  it("the restore worker's entry does not load the bundle", () => {
    expect(readFileSync(join(CLI_DIR, 'backup-worker.js'), 'utf8')).not.toContain(bundle);
  });
});
