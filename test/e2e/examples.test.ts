// Every example config validates with the real CLI, and every compose file follows the rules
// the examples promise: the Compose Specification (no `version:`), healthchecks, and
// depends_on conditions that can be met. `docker compose config` runs too when a Compose
// plugin is installed; without one that check is skipped with a visible notice.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLI, ROOT } from '../helpers/pilotfish.js';

const EXAMPLES = join(ROOT, 'examples');
const examples = readdirSync(EXAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
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

function composeAvailable(): string | undefined {
  const r = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return `docker is not installed (${r.error.message})`;
  if (r.status !== 0) return `"docker compose version" failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}`;
  return undefined;
}
const noCompose = composeAvailable();

describe('examples', () => {
  it('has the expected examples, each with a config, Dockerfile, compose file and README', () => {
    expect(examples).toEqual(expect.arrayContaining(['quickstart', 'wordpress', 'gerrit', 'mariadb']));
    for (const name of examples) {
      for (const file of ['pilotfish.yaml', 'Dockerfile', 'docker-compose.yml', 'README.md']) {
        expect(existsSync(join(EXAMPLES, name, file)), `examples/${name}/${file}`).toBe(true);
      }
    }
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

  if (noCompose) {
    // A visible notice, not a silent pass: the environment cannot run this check.
    console.warn(`examples: "docker compose config" skipped: ${noCompose}`);
    it.skip(`docker compose config [skipped: ${noCompose}]`, () => {});
  } else {
    it.each(composeFiles.map((f) => [relative(ROOT, f), f]))('docker compose config accepts %s', (_name, file) => {
      execFileSync('docker', ['compose', '-f', file, 'config', '--quiet'], { encoding: 'utf8', timeout: 60_000 });
    });
  }
});
