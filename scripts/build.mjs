#!/usr/bin/env node
// Builds dist/ with Rolldown. What a start loads, and why (bench/startup/README.md has the figures):
//
// - dist/cli/pilotfish-HASH.js: the program, one CommonJS bundle holding everything a `run` loads
//   whatever its config (the CLI, the config loader and schema, jobs, pid1, the control plane,
//   pino, yaml, valibot). One file, not the 44 chunks Node's ES-module loader resolved and linked
//   one by one.
// - one chunk per thing loaded on demand: each subsystem's runtime (with its client: S3, Vault,
//   Consul, OpenTelemetry, liquidjs), the other CLI commands, the ContainerPilot converter.
// - dist/native/pid1.node: the reaper's libc calls (src/pid1/native.c), when there is a C
//   compiler; without one Pilotfish uses koffi for them, which costs a start about 7 MiB more.
// - dist/cli/main.js: the launcher (src/cli/launcher.cts), which runs the bundle with V8's code
//   cache for it, taken after a `run`; this build fills that cache by running `run` once.
//
// CommonJS, not ES modules: Node's ES-module loader resolves, links and evaluates each file
// asynchronously, and reading a built-in as an ES module runs all its lazy getters (`import …
// from 'node:http'` loaded undici, http2 and tls); require() does neither. dist/cli/package.json
// says "commonjs" for dist/cli only. koffi and lz4-napi stay external: they ship native binaries.
// Type checking is a separate step (`npm run typecheck`).
import { build, RUNTIME_MODULE_ID } from 'rolldown';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const OUT = 'dist/cli';
/** What every `run` loads: these files and all they import statically. */
const RUN_PATH = ['src/cli/main.ts', 'src/cli/commands/run.ts', 'src/control/subsystem.ts'].map((f) => resolve(f));
/**
 * The restore's worker threads load their own entry. What it shares with the run path must stay
 * out of the bundle's file: a worker that required it would run the whole CLI again.
 */
const WORKER = [resolve('src/backup/workers/restore-worker.ts')];

/** The static import closure of some files, from the bundler's module graph. */
function closure(roots, ctx) {
  const seen = new Set();
  const todo = [...roots];
  while (todo.length > 0) {
    const next = todo.pop();
    const info = seen.has(next) ? null : ctx.getModuleInfo(next);
    if (!info) continue;
    seen.add(next);
    todo.push(...info.importedIds);
  }
  return seen;
}
let runPath;
function onRunPath(id, ctx) {
  if (!runPath) {
    const worker = closure(WORKER, ctx);
    runPath = new Set([RUNTIME_MODULE_ID, ...[...closure(RUN_PATH, ctx)].filter((m) => !worker.has(m))]);
  }
  return runPath.has(id);
}

mkdirSync(OUT, { recursive: true });
// dist/ is not emptied first: test runs in parallel may be executing it. File names carry content
// hashes, so a stale chunk is never loaded by a fresh launcher.
writeFileSync(join(OUT, 'package.json'), '{ "type": "commonjs" }\n');

/**
 * pino, as Pilotfish uses it (src/kernel/logger.ts: one synchronous destination on a descriptor,
 * no transports), without three built-ins its module loads at the top for features it never
 * uses here: worker_threads (transports run in a worker; pino reads `isMainThread` only to flush
 * an asynchronous destination at exit), thread-stream with it, and assert (sonic-boom calls it
 * once, when a destination is closed). Together about 0.9 MiB and a millisecond of every start
 * (bench/startup/README.md). assert stays real, loaded when it is called; a transport is refused
 * with an error that says why.
 */
const PINO = /[\\/]node_modules[\\/]pino[\\/]/;
const SONIC_BOOM = /[\\/]node_modules[\\/]sonic-boom[\\/]/;
const VIRTUAL = {
  '\0pino:main-thread': 'module.exports = { isMainThread: true };\n',
  '\0pino:no-transport':
    "module.exports = function transport() { throw new Error('pino transports are not part of the Pilotfish build (scripts/build.mjs)'); };\n",
  '\0lazy:assert': "module.exports = function assert(value, message) { if (!value) require('node:assert')(value, message); };\n",
};
const pinoWithoutThreads = {
  name: 'pino-without-threads',
  resolveId(source, importer) {
    if (importer && PINO.test(importer) && (source === 'worker_threads' || source === 'node:worker_threads')) return '\0pino:main-thread';
    if (importer && PINO.test(importer) && /^\.\/(lib\/)?transport(\.js)?$/.test(source)) return '\0pino:no-transport';
    if (importer && SONIC_BOOM.test(importer) && (source === 'assert' || source === 'node:assert')) return '\0lazy:assert';
    return null;
  },
  load(id) {
    return VIRTUAL[id] ?? null;
  },
};

const common = { platform: 'node', logLevel: 'warn', external: ['koffi', 'lz4-napi'], plugins: [pinoWithoutThreads] };
const { output } = await build({
  ...common,
  // backup-worker: the restore's worker threads (src/backup/workers/pool.ts starts them).
  input: { pilotfish: 'src/cli/main.ts', 'backup-worker': 'src/backup/workers/restore-worker.ts' },
  // The run path's group takes only its own modules (includeDependenciesRecursively: false, which
  // needs this): what it shares with the worker goes to a chunk of its own.
  preserveEntrySignatures: 'allow-extension',
  // src/cli/commands.ts imports each command on demand; commands that share code import each
  // other statically, which Rolldown reports and handles.
  onLog(level, log, handler) {
    if (log.code !== 'INEFFECTIVE_DYNAMIC_IMPORT') handler(level, log);
  },
  output: {
    dir: OUT,
    format: 'cjs',
    minify: true,
    sourcemap: true,
    // ASCII only: Node reads an all-ASCII file into a one-byte string at once.
    charset: 'ascii',
    entryFileNames: (chunk) => (chunk.name === 'pilotfish' ? '[name]-[hash].js' : '[name].js'),
    chunkFileNames: '[name]-[hash].js',
    // Into the bundle's own file: the run path. The rest splits by where it is imported.
    codeSplitting: { groups: [{ name: (id, ctx) => (onRunPath(id, ctx) ? 'pilotfish' : null), debugName: 'run path', includeDependenciesRecursively: false }] },
  },
});
const bundle = output.find((o) => o.type === 'chunk' && o.isEntry && o.name === 'pilotfish')?.fileName;
if (!bundle) throw new Error('build: no pilotfish bundle in the output');

await build({
  ...common,
  input: { main: 'src/cli/launcher.cts' },
  transform: { define: { PILOTFISH_BUNDLE: JSON.stringify(bundle) } },
  output: { dir: OUT, format: 'cjs', minify: true, codeSplitting: false, banner: '#!/usr/bin/env node', entryFileNames: '[name].js' },
});
chmodSync(join(OUT, 'main.js'), 0o755);

// The reaper's addon: `cc` (or $CC), with libc's headers; none is no error (src/pid1/native.ts).
mkdirSync('dist/native', { recursive: true });
const cc = process.env.CC || 'cc';
try {
  const tmp = `dist/native/pid1.node.${process.pid}.tmp`;
  execFileSync(cc, ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', '-fvisibility=hidden', '-o', tmp, 'src/pid1/native.c'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  renameSync(tmp, 'dist/native/pid1.node');
} catch (error) {
  rmSync('dist/native/pid1.node', { force: true });
  const why = error.code === 'ENOENT' ? `no C compiler: ${cc} not found` : String(error.stderr ?? error.message).trim();
  process.stderr.write(`build: dist/native/pid1.node not built (${why}); Pilotfish uses koffi instead\n`);
}

// The JSON Schema beside the bundle, for editors: `# yaml-language-server: $schema=dist/pilotfish.schema.json`.
writeFileSync('dist/pilotfish.schema.json', execFileSync(process.execPath, [join(OUT, 'main.js'), 'schema']));

// The code caches (src/cli/launcher.cts) in dist/.compile-cache: filled by one `run` of a config
// whose only job exits at once, so the first start of an image built with `npm run build` finds
// the run path compiled. Emptied first: its entries are keyed by content, so old ones would only
// pile up. The config is YAML, so that the YAML parser's functions are in the cache too.
rmSync('dist/.compile-cache', { recursive: true, force: true });
const warm = mkdtempSync(join(tmpdir(), 'pilotfish-build-'));
try {
  const config = join(warm, 'pilotfish.yaml');
  writeFileSync(
    config,
    [
      'logging: { level: error }',
      `control: { socket: ${JSON.stringify(join(warm, 'control.sock'))} }`,
      'jobs:',
      '  - name: warm',
      '    main: true',
      '    exec: [/bin/true]',
      '',
    ].join('\n'),
  );
  const env = { ...process.env };
  delete env.NODE_COMPILE_CACHE;
  delete env.PILOTFISH_COMPILE_CACHE;
  // The same V8 flags as the build's own Node: a cache V8 made under other flags may be refused.
  execFileSync(process.execPath, [...process.execArgv, join(OUT, 'main.js'), 'run', '--config', config], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 60_000,
  });
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
