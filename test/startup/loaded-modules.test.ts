// What a minimal run loads: a config whose only job is a main job that exits must load none of
// the subsystems it does not configure (Consul, Vault, templates, backup and its S3 client,
// election, telemetry) nor their heavy clients. The built CLI runs with a module hook
// (--import, module.registerHooks) that records every module URL it loads; each bundle chunk
// loaded is mapped back to the source files in it through the chunk's source map.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ADDON, bundleOf, CLI, ROOT } from '../helpers/pilotfish.js';

/**
 * Code a minimal run must not load: a subsystem's runtime, its config section's schema (a run
 * loads only the schemas of the sections its config has: src/top/sections.ts), or a client
 * library only it uses.
 */
const FORBIDDEN: Array<[string, RegExp]> = [
  ['Consul subsystem', /(^|\/)src\/consul\//],
  ['Vault subsystem', /(^|\/)src\/vault\//],
  ['templates subsystem', /(^|\/)src\/templates\//],
  ['backup subsystem', /(^|\/)src\/backup\//],
  ['election subsystem', /(^|\/)src\/election\//],
  ['telemetry subsystem', /(^|\/)src\/telemetry\//],
  ['the S3 client', /node_modules\/(@aws-sdk|@smithy|@aws-crypto)\//],
  ['the Vault client', /node_modules\/(node-vault|axios|mime-db)\//],
  ['the Consul client', /node_modules\/consul\//],
  ['OpenTelemetry', /node_modules\/@opentelemetry\//],
  ['prom-client', /node_modules\/prom-client\//],
  ['liquidjs', /node_modules\/liquidjs\//],
  ['lz4 (backup codec)', /node_modules\/lz4-napi\//],
  // The configs here are JSON: plain JSON of Pilotfish's shape is told apart without the converter.
  ['the ContainerPilot converter', /(^|\/)src\/migrate\/(?!detect\.ts$)/],
  ['JSON5, the converter parser', /node_modules\/json5\//],
  // The reaper's calls go through the build's small addon (dist/native/pid1.node); koffi, which
  // costs a start about 7 MiB, only where the addon could not be built.
  ...(existsSync(ADDON) || process.env.CI ? ([['koffi', /node_modules\/(koffi|@koromix)\//]] as Array<[string, RegExp]>) : []),
];

// Node 22.15+ and 24: synchronous hooks that see both import() and require().
const hasSyncHooks = typeof (module as { registerHooks?: unknown }).registerHooks === 'function';
const dir = mkdtempSync(join(tmpdir(), 'pf-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the built CLI on a config; returns the URLs of every module it loaded, in order. */
function loadedBy(config: object): { status: number | null; stderr: string; urls: string[]; builtins: string[] } {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  const record = `${file}.loaded`;
  const builtinsRecord = `${file}.builtins`;
  const hook = join(dir, 'record-loads.mjs');
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
import { appendFileSync, writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync(${JSON.stringify(builtinsRecord)}, process.moduleLoadList.join('\\n')));
registerHooks({ load(url, context, next) { appendFileSync(${JSON.stringify(record)}, url + '\\n'); return next(url, context); } });
`,
  );
  writeFileSync(file, JSON.stringify({ ...config, control: { socket: join(dir, 'control.sock') } }));
  const r = spawnSync(process.execPath, ['--import', hook, CLI, 'run', '--config', file], { encoding: 'utf8', timeout: 60_000 });
  const urls = existsSync(record) ? readFileSync(record, 'utf8').split('\n').filter(Boolean) : [];
  const builtins = existsSync(builtinsRecord) ? readFileSync(builtinsRecord, 'utf8').split('\n').filter(Boolean) : [];
  return { status: r.status, stderr: r.stderr, urls, builtins };
}

/** The source files bundled in each loaded chunk of dist/, from its source map. */
function sourcesOf(urls: string[]): string[] {
  const dist = join(ROOT, 'dist');
  const sources = new Set<string>();
  for (const url of urls) {
    if (!url.startsWith('file:')) continue;
    const path = fileURLToPath(url);
    if (!path.startsWith(dist)) {
      sources.add(path); // an external module (koffi, …) loaded from node_modules
      continue;
    }
    const files = [path];
    // The launcher (dist/cli/main.js) reads the bundle itself, unseen by the hook: its name is in it.
    if (path.endsWith('main.js')) {
      const bundle = bundleOf(path);
      if (bundle) files.push(join(path, '..', bundle));
    }
    for (const file of files) {
      // The bundler's own helpers (its runtime chunk) have no source map: no source of ours is in them.
      if (!existsSync(`${file}.map`)) continue;
      const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
      for (const s of map.sources) sources.add(resolve(join(file, '..'), s));
    }
  }
  return [...sources].map((s) => (s.startsWith(ROOT) ? s.slice(ROOT.length + 1) : s));
}

describe('a minimal run', () => {
  it.skipIf(!hasSyncHooks)('loads no subsystem it does not configure, and none of their clients', () => {
    const run = loadedBy({ logging: { level: 'warn' }, jobs: [{ name: 'app', main: true, exec: ['/bin/true'] }] });
    expect(run.status, run.stderr).toBe(0);
    const sources = sourcesOf(run.urls);
    // The hook saw the run: the supervisor and the jobs code are there.
    expect(
      sources.some((s) => s.startsWith('src/top/')),
      sources.join('\n'),
    ).toBe(true);
    expect(
      sources.some((s) => s.startsWith('src/jobs/')),
      sources.join('\n'),
    ).toBe(true);
    const found = FORBIDDEN.map(([what, re]) => [what, sources.filter((s) => re.test(s))] as const).filter(([, hits]) => hits.length > 0);
    const report = found.map(([what, hits]) => `${what}: ${hits.length} files, e.g. ${hits.slice(0, 3).join(', ')}`).join('\n');
    expect(report, 'code a minimal run should not load').toBe('');
  });

  // Node's ES-module facade of a built-in reads every export, which runs its lazy getters: an
  // `import` of node:http loads undici (and with it http2, tls, zlib and perf_hooks), node:fs
  // its streams. The bundle is CommonJS, which loads built-ins with require() (scripts/build.mjs).
  it('loads no built-in module that only a lazy getter of another needs (undici, http2, tls, zlib)', () => {
    const run = loadedBy({ logging: { level: 'warn' }, jobs: [{ name: 'app', main: true, exec: ['/bin/true'] }] });
    expect(run.status, run.stderr).toBe(0);
    expect(run.builtins.length, 'the exit hook recorded process.moduleLoadList').toBeGreaterThan(50);
    const unwanted = run.builtins.filter((m) => /undici|\bhttp2$|\btls$|\bzlib$|\bperf_hooks$/.test(m));
    expect(unwanted).toEqual([]);
  });

  // Built-ins Pilotfish's own run path could load but needs not: node:fs/promises (its readline
  // and streams; callback fs serves), and what pino's module loads for transports and closing a
  // destination (worker_threads, assert; scripts/build.mjs leaves them out of the bundle).
  // Recorded by a CommonJS preload: the ES-module hook of the other tests loads readline itself.
  it('loads neither fs/promises and readline nor worker_threads and assert', () => {
    const file = join(dir, 'plain.json');
    const record = `${file}.builtins`;
    const preload = join(dir, 'record-builtins.cjs');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(record)}, process.moduleLoadList.join('\\n')));\n`);
    writeFileSync(
      file,
      JSON.stringify({ logging: { level: 'warn' }, control: { socket: join(dir, 'plain.sock') }, jobs: [{ name: 'app', main: true, exec: ['/bin/true'] }] }),
    );
    const run = spawnSync(process.execPath, ['--require', preload, CLI, 'run', '--config', file], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const builtins = readFileSync(record, 'utf8').split('\n');
    expect(builtins).toContain('NativeModule child_process');
    const unwanted = builtins.filter((m) => /^NativeModule (fs\/promises|readline|internal\/readline\/interface|worker_threads|assert)$/.test(m));
    expect(unwanted).toEqual([]);
  });

  it.skipIf(!hasSyncHooks)('is seen by the hook: a config with a template loads the templates subsystem and liquidjs', () => {
    const run = loadedBy({
      logging: { level: 'warn' },
      templates: [{ name: 'hello', template: 'hello', destination: join(dir, 'rendered.txt') }],
      jobs: [{ name: 'app', main: true, exec: ['/bin/true'] }],
    });
    expect(run.status, run.stderr).toBe(0);
    const sources = sourcesOf(run.urls);
    expect(
      sources.some((s) => /(^|\/)src\/templates\/engine\.ts$/.test(s)),
      sources.join('\n'),
    ).toBe(true);
    expect(
      sources.some((s) => /node_modules\/liquidjs\//.test(s)),
      sources.join('\n'),
    ).toBe(true);
  });
});
