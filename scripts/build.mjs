#!/usr/bin/env node
// Builds dist/ with esbuild: one ESM bundle per entry, with the commands split into chunks that
// load on demand. Bundling halves Pilotfish's start time (measured in bench/startup); type
// checking is a separate step (`npm run typecheck`). koffi and lz4-napi stay external: they ship native binaries.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Node built-ins are loaded with require(), not as ES modules: Node's ES-module facade of a built-in
// reads every export once, which runs its lazy getters: `import … from 'node:http'` then loads
// undici, http2, tls and zlib, 'node:fs' its streams and readline, 'node:util' worker_threads
// (bench/startup/README.md has what this saves at start).
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

// dist/ is not emptied first: test runs in parallel may be executing it. Chunk names are
// content hashes, so a stale chunk is never loaded by a fresh main.js.
await build({
  // backup-worker: the restore's worker threads (src/backup/workers/pool.ts starts them).
  entryPoints: { main: 'src/cli/main.ts', 'backup-worker': 'src/backup/workers/restore-worker.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22.12',
  minify: true,
  sourcemap: true,
  external: ['koffi', 'lz4-napi'],
  plugins: [builtinsByRequire],
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: { js: "import{createRequire as __pfRequire}from'node:module';const require=__pfRequire(import.meta.url);" },
  logLevel: 'warning',
});

// The JSON Schema beside the bundle, for editors: `# yaml-language-server: $schema=dist/pilotfish.schema.json`.
writeFileSync('dist/pilotfish.schema.json', execFileSync(process.execPath, ['dist/cli/main.js', 'schema']));

// Node's module compile cache beside the bundle (src/cli/main.ts enables it): filled here by one
// `run` of a config whose only job exits at once, so the first start of an image built with
// `npm run build` finds the run path's modules compiled. Emptied first: its entries are keyed by
// the chunks' content, so old ones would only pile up.
rmSync('dist/.compile-cache', { recursive: true, force: true });
const warm = mkdtempSync(join(tmpdir(), 'pilotfish-build-'));
try {
  const config = join(warm, 'pilotfish.json');
  writeFileSync(
    config,
    JSON.stringify({ logging: { level: 'error' }, control: { socket: join(warm, 'control.sock') }, jobs: [{ name: 'warm', main: true, exec: ['/bin/true'] }] }),
  );
  const env = { ...process.env };
  delete env.NODE_COMPILE_CACHE;
  delete env.PILOTFISH_COMPILE_CACHE;
  execFileSync(process.execPath, ['dist/cli/main.js', 'run', '--config', config], { env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
  // Node writes its entries 0600: readable for any user Pilotfish may run as in an image.
  if (existsSync('dist/.compile-cache')) {
    for (const entry of readdirSync('dist/.compile-cache', { recursive: true, withFileTypes: true })) {
      chmodSync(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
    }
    chmodSync('dist/.compile-cache', 0o755);
  }
} catch (error) {
  process.stderr.write(`build: the compile cache was not filled (${error.message}); Pilotfish works without it\n`);
} finally {
  rmSync(warm, { recursive: true, force: true });
}
