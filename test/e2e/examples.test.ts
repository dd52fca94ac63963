// Every example config validates with the real CLI, and every compose file follows the rules
// the examples promise: the Compose Specification (no `version:`), healthchecks, and
// depends_on conditions that can be met. Docker Compose itself (`docker compose`, or the
// `docker-compose` that `scripts/services install` builds: the same program) checks every compose
// file with `config`, and must refuse a broken one; with neither, that check is skipped with a
// visible notice.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDuration } from '../../src/kernel/duration.js';
import { CLI, ROOT } from '../helpers/pilotfish.js';
import { stopBudgetOfFile } from '../containers/stop-budget.js';

const EXAMPLES = join(ROOT, 'examples');
const examples = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const configs = examples.flatMap((name) =>
  readdirSync(join(EXAMPLES, name))
    .filter((f) => f.endsWith('.yaml') && f !== 'docker-compose.yml')
    .map((f) => join(EXAMPLES, name, f)),
);
const composeFiles = examples.map((name) => join(EXAMPLES, name, 'docker-compose.yml')).filter((f) => existsSync(f));

interface Service {
  image?: string;
  build?: unknown;
  healthcheck?: { test?: unknown };
  depends_on?: Record<string, { condition?: string }> | string[];
}

/** How to run Docker Compose: `docker compose`, else the built `docker-compose`; or why not. */
function findCompose(): { command: string[] } | { missing: string } {
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 10_000 });
  if (!plugin.error && plugin.status === 0) return { command: ['docker', 'compose'] };
  const built = spawnSync(join(ROOT, 'scripts/services'), ['which', 'docker-compose'], { encoding: 'utf8', timeout: 10_000 });
  if (built.status === 0 && built.stdout.trim()) return { command: [built.stdout.trim()] };
  const why = plugin.error ? `docker is not installed (${plugin.error.message})` : `"docker compose version" failed`;
  return { missing: `${why}, and no docker-compose was built (scripts/services install builds one)` };
}
const compose = findCompose();

describe('examples', () => {
  it('has the expected examples, each with a config, Dockerfile, compose file and README', () => {
    expect(examples).toEqual(expect.arrayContaining(['quickstart', 'wordpress', 'gerrit', 'mariadb']));
    for (const name of examples) {
      for (const file of ['pilotfish.yaml', 'Dockerfile', 'docker-compose.yml', 'README.md']) {
        expect(existsSync(join(EXAMPLES, name, file)), `examples/${name}/${file}`).toBe(true);
      }
    }
  });

  it('builds Pilotfish once: the root Dockerfile copies every package the bundle leaves external; every image copies from it', () => {
    const build = readFileSync(join(ROOT, 'scripts/build.mjs'), 'utf8');
    const externals = JSON.parse((/external: (\[[^\]]*\])/.exec(build)?.[1] ?? '[]').replace(/'/g, '"')) as string[];
    expect(externals).toEqual(expect.arrayContaining(['koffi', 'lz4-napi']));
    const root = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    for (const pkg of externals) expect(root, `Dockerfile copies node_modules/${pkg}`).toContain(`cp -r node_modules/${pkg} /opt/pilotfish/node_modules/`);
    expect(root).toMatch(/^ARG BASE_IMAGE=node:24-bookworm-slim$/m);
    const dockerfiles = [
      join(ROOT, 'Dockerfile.example'),
      ...examples.flatMap((name) =>
        readdirSync(join(EXAMPLES, name))
          .filter((f) => f.startsWith('Dockerfile'))
          .map((f) => join(EXAMPLES, name, f)),
      ),
    ];
    for (const file of dockerfiles) {
      const text = readFileSync(file, 'utf8');
      const name = relative(ROOT, file);
      expect(text, `${name}: no builder stage of its own`).not.toMatch(/npm (ci|install)/);
      expect(text, `${name}: the distribution image as a build argument`).toMatch(/^ARG PILOTFISH_IMAGE=pilotfish:latest$/m);
      expect(text, `${name}: its base image as a build argument`).toMatch(/^ARG BASE_IMAGE=\S+$/m);
      expect(text, name).toMatch(/^FROM \$\{PILOTFISH_IMAGE\} AS pilotfish$/m);
      expect(text, name).toMatch(/^FROM \$\{BASE_IMAGE\}$/m);
      expect(text, name).toContain('COPY --from=pilotfish /opt/pilotfish /opt/pilotfish');
      // the health check prints why it fails (docker inspect shows it); a 1 s timeout flaps on a busy host
      expect(text, `${name}: HEALTHCHECK`).toMatch(/HEALTHCHECK .*--timeout=(\d{2,}|[5-9])s.* CMD \["pilotfish", "health"\]/);
    }
  });

  it("every compose service built here waits at least its config's whole stop sequence (stop_grace_period)", () => {
    const checked: string[] = [];
    for (const file of composeFiles) {
      const doc = parse(readFileSync(file, 'utf8')) as { services: Record<string, Service & { stop_grace_period?: string }> };
      for (const [name, s] of Object.entries(doc.services)) {
        const dockerfile = (s.build as { dockerfile?: string } | undefined)?.dockerfile;
        if (!dockerfile) continue;
        const text = readFileSync(join(ROOT, dockerfile), 'utf8');
        const config = /^COPY (\S+\.yaml) \/etc\/pilotfish\.yaml$/m.exec(text)?.[1];
        expect(config, `${dockerfile}: COPY <config> /etc/pilotfish.yaml`).toBeDefined();
        const budget = stopBudgetOfFile(join(ROOT, config as string));
        const where = `${relative(ROOT, file)}: ${name} (${config})`;
        expect(s.stop_grace_period, `${where}: stop_grace_period`).toBeDefined();
        const grace = parseDuration(String(s.stop_grace_period));
        expect(grace, `${where}: stop_grace_period ${s.stop_grace_period} ≥ ${budget / 1000} s`).toBeGreaterThanOrEqual(budget);
        checked.push(where);
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(4);
  });

  it.each(configs.map((f) => [relative(ROOT, f), f]))('%s validates', (_name, file) => {
    const out = execFileSync(process.execPath, [CLI, 'validate', '--config', file], { encoding: 'utf8', env: { ...process.env } });
    expect(out).toMatch(/valid/);
  });

  it.each(composeFiles.map((f) => [relative(ROOT, f), f]))('%s: Compose Specification, healthchecks, met conditions', (_name, file) => {
    const doc = parse(readFileSync(file, 'utf8')) as { version?: unknown; services: Record<string, Service> };
    expect(doc.version, 'no top-level version: key (Compose Specification)').toBeUndefined();
    const services = doc.services;
    for (const [name, s] of Object.entries(services)) {
      expect(s.image ?? s.build, `${name}: image or build`).toBeDefined();
      if (!s.depends_on) continue;
      expect(Array.isArray(s.depends_on), `${name}: depends_on with conditions, not a bare list`).toBe(false);
      for (const [dep, { condition }] of Object.entries(s.depends_on as Record<string, { condition?: string }>)) {
        expect(services[dep], `${name} depends on unknown service ${dep}`).toBeDefined();
        expect(['service_healthy', 'service_completed_successfully'], `${name} → ${dep}`).toContain(condition);
        if (condition === 'service_healthy') expect(services[dep]?.healthcheck?.test, `${dep} needs a healthcheck`).toBeDefined();
      }
    }
    // The Pilotfish services (built here) have a health check through `pilotfish health`.
    for (const [name, s] of Object.entries(services).filter(([, s]) => s.build)) {
      expect(JSON.stringify(s.healthcheck?.test), `${name}: healthcheck`).toContain('pilotfish');
    }
  });

  if ('missing' in compose) {
    // A visible notice, not a silent pass: the environment cannot run this check.
    console.warn(`examples: "docker compose config" skipped: ${compose.missing}`);
    it.skip(`docker compose config [skipped: ${compose.missing}]`, () => {});
  } else {
    const [bin, ...pre] = compose.command as [string, ...string[]];
    const config = (file: string) => spawnSync(bin, [...pre, '-f', file, 'config', '--quiet'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env } });
    it.each(composeFiles.map((f) => [relative(ROOT, f), f]))('docker compose config accepts %s', (_name, file) => {
      const r = config(file);
      expect(r.stderr, relative(ROOT, file)).toBe('');
      expect(r.status).toBe(0);
    });
    it('docker compose config refuses a broken file (the check can fail)', () => {
      const dir = mkdtempSync(join(tmpdir(), 'pf-compose-'));
      const file = join(dir, 'docker-compose.yml');
      writeFileSync(file, 'services:\n  app:\n    image: busybox\n    depends_on:\n      db: {condition: service_healthy}\n');
      const r = config(file);
      rmSync(dir, { recursive: true, force: true });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/db/);
    });
  }
});
