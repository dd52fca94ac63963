// Pure parts of the Vault subsystem: config, paths, change detection, delivery, files, redaction.
import * as valibot from 'valibot';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/top/config.js';
import { jobSchema } from '../../src/jobs/config.js';
import { redactor } from '../../src/kernel/redact.js';
import { nextDelay, RateLimiter } from '../../src/kernel/backoff.js';
import { secretSchema, vaultSchema } from '../../src/vault/config.js';
import { checkFields, checkReferences, dependentJobs, jobEnv, SecretTemplateSource, templateReferences } from '../../src/vault/deliver.js';
import { createVault } from '../../src/vault/subsystem.js';
import { wanted } from '../../src/top/subsystems.js';
import { TemplateSourceRegistry } from '../../src/subsystem/template-sources.js';
import { NO_METRICS } from '../../src/subsystem/metrics.js';
import { fileContent, fileOwner, writeSecretFile } from '../../src/vault/files.js';
import { fingerprint, readPath, registerValues } from '../../src/vault/secrets.js';

const job = (over: Record<string, unknown>) => valibot.parse(jobSchema, { name: 'app', exec: 'true', ...over });

describe('vault config', () => {
  it('defaults: token auth from $VAULT_TOKEN, renew at 2/3, refresh 60s, fail fast', async () => {
    const v = valibot.parse(vaultSchema, {});
    expect(v.auth).toEqual({ token: { env: 'VAULT_TOKEN' } });
    expect(v.renewAt).toBeCloseTo(2 / 3);
    expect(v.refresh).toBe(60_000);
    expect(v.startup.failFast).toBe(true);
  });

  it('refresh is configurable per secret and globally', async () => {
    const v = valibot.parse(vaultSchema, { refresh: '5s', secrets: [{ name: 'db', path: 'secret/db', refresh: '250ms' }] });
    expect(v.refresh).toBe(5000);
    expect(v.secrets[0]?.refresh).toBe(250);
  });

  it('refuses two auth methods, a wrapped secret_id without its file, and unknown file secrets', async () => {
    expect(valibot.safeParse(vaultSchema, { auth: { token: {}, approle: { roleId: 'x' } } }).success).toBe(false);
    expect(valibot.safeParse(vaultSchema, { auth: { approle: { roleId: 'x', wrapped: true } } }).success).toBe(false);
    expect(valibot.safeParse(vaultSchema, { auth: { approle: { roleId: 'x', roleIdFile: '/r' } } }).success).toBe(false);
    const bad = valibot.safeParse(vaultSchema, { secrets: [{ name: 'db', path: 'secret/db' }], files: [{ secret: 'dbb', path: '/run/x' }] });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.issues)).toContain('unknown secret \\"dbb\\"');
  });

  it('a job maps variables to name#field, and reacts by signal or restart', async () => {
    expect(job({ secrets: { DB_PASSWORD: 'db#password' }, onSecretChange: { signal: 'SIGHUP' } }).secrets).toEqual({ DB_PASSWORD: 'db#password' });
    expect(valibot.safeParse(jobSchema, { name: 'a', exec: 'x', secrets: { DB: 'db' } }).success).toBe(false);
    expect(valibot.safeParse(jobSchema, { name: 'a', exec: 'x', onSecretChange: { restart: true } }).success).toBe(true);
    expect(valibot.safeParse(jobSchema, { name: 'a', exec: 'x', onSecretChange: { signal: 'SIGNOPE' } }).success).toBe(false);
  });

  it('secret names are event sources for when:', async () => {
    const yaml = `
vault:
  secrets: [{name: db, path: secret/app/db}]
jobs:
  - {name: app, exec: "true"}
  - {name: on-rotate, exec: "true", when: {source: db, each: changed}}
`;
    await expect(parseConfig(yaml, 'x.yaml', {})).resolves.toBeDefined();
    await expect(parseConfig(yaml.replace('source: db', 'source: dbx'), 'x.yaml', {})).rejects.toThrow(/unknown event source "dbx"/);
  });
});

describe('secret paths', () => {
  const s = (o: Record<string, unknown>) => valibot.parse(secretSchema, { name: 'x', ...o });
  it('kv2 reads <mount>/data/<key>, with a pinned version', async () => {
    expect(readPath(s({ path: 'secret/app/db' }))).toBe('secret/data/app/db');
    expect(readPath(s({ path: 'secret/data/app/db' }))).toBe('secret/data/app/db');
    expect(readPath(s({ path: 'secret/app/db', version: 3 }))).toBe('secret/data/app/db?version=3');
    expect(readPath(s({ path: 'team/kv/app', mount: 'team/kv' }))).toBe('team/kv/data/app');
  });
  it('kv1 and generic read the path as is', async () => {
    expect(readPath(s({ path: 'kv1/app', engine: 'kv1' }))).toBe('kv1/app');
    expect(readPath(s({ path: 'database/creds/app', engine: 'generic' }))).toBe('database/creds/app');
  });
  it('version is for kv2 only', async () => {
    expect(valibot.safeParse(secretSchema, { name: 'x', path: 'kv1/a', engine: 'kv1', version: 2 }).success).toBe(false);
  });
});

describe('change detection and backoff', () => {
  it('fingerprints ignore key order', async () => {
    expect(fingerprint({ a: 1, b: { c: 2, d: 3 } })).toBe(fingerprint({ b: { d: 3, c: 2 }, a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });
  it('backoff grows to its max', async () => {
    const b = { initial: 100, max: 1000, factor: 2 };
    expect(nextDelay(0, b)).toBeLessThanOrEqual(120);
    expect(nextDelay(20, b)).toBeGreaterThanOrEqual(800);
    expect(nextDelay(20, b)).toBeLessThanOrEqual(1200);
  });
  it('rate-limited warnings say how many were kept quiet', async () => {
    const r = new RateLimiter(1000);
    expect(r.allow('k', 0)).toBe(0);
    expect(r.allow('k', 10)).toBeUndefined();
    expect(r.allow('k', 20)).toBeUndefined();
    expect(r.allow('k', 1500)).toBe(2);
    r.clear('k');
    expect(r.allow('k', 1600)).toBe(0);
  });
});

describe('delivery', () => {
  const data: Record<string, Record<string, unknown>> = { db: { user: 'app', password: 'pw-123456' }, api: { key: 'k-987654' } };
  const get = (n: string) => data[n];

  it('a job gets only its own variables', async () => {
    const a = job({ secrets: { DB_PASSWORD: 'db#password' } });
    const b = job({ name: 'b' });
    expect(jobEnv(a, get)).toEqual({ DB_PASSWORD: 'pw-123456' });
    expect(jobEnv(b, get)).toEqual({});
  });

  it('unknown names and missing fields are named, never valued', async () => {
    expect(() => checkReferences([job({ secrets: { X: 'nope#f' } })], new Set(['db']))).toThrow(/secrets.X refers to "nope"/);
    const problems = checkFields([job({ secrets: { X: 'db#passwd' } })], get, () => 'secret/data/db');
    expect(problems.join()).toMatch(/field "passwd" of secret db \(secret\/data\/db\), which has fields: user, password/);
    expect(problems.join()).not.toContain('pw-123456');
  });

  it('templates referring to unknown secrets, and secrets without a vault: section, fail the start', async () => {
    const refs = templateReferences([{ name: 'conf', data: { a: 'key:x', pw: 'secret:dbx#password' } }]);
    expect(refs).toEqual([['conf', 'pw', 'dbx']]);
    expect(() => checkReferences([], new Set(['db']), refs)).toThrow(/template conf: data.pw refers to secret "dbx"/);
    const config = await parseConfig('jobs: [{name: app, exec: "true", secrets: {X: "db#x"}}]', 'x.yaml', {});
    expect(wanted(config).vault).toBe(true);
    const sub = createVault(config, { templateSources: new TemplateSourceRegistry(), metrics: NO_METRICS });
    await expect(sub.start({} as never)).rejects.toThrow(/job app has secrets: but there is no vault: section/);
    expect(wanted(await parseConfig('jobs: [{name: app, exec: "true"}]', 'x.yaml', {})).vault).toBe(false);
  });

  it('dependent jobs: by env mapping or by file', async () => {
    const jobs = [job({ secrets: { X: 'db#user' } }), job({ name: 'files' }), job({ name: 'other' })];
    const files = [{ secret: 'db', path: '/x', mode: '0600', job: 'files' }];
    expect(dependentJobs('db', jobs, files).map((j) => j.name)).toEqual(['app', 'files']);
    expect(dependentJobs('api', jobs, files)).toEqual([]);
  });

  it('the template source gives a field or the whole secret, now and on change', async () => {
    const src = new SecretTemplateSource(new Set(['db']), get);
    const seen: unknown[] = [];
    const off = src.subscribe('db#password', (v) => seen.push(v));
    src.subscribe('db', (v) => seen.push(v));
    expect(seen).toEqual(['pw-123456', data.db]);
    data.db = { ...data.db, password: 'pw-rotated' };
    off();
    src.changed('db');
    expect(seen.at(-1)).toEqual({ user: 'app', password: 'pw-rotated' });
    expect(src.check('nope#x')).toMatch(/unknown secret "nope"/);
  });
});

describe('files and redaction', () => {
  it('writes 0600 atomically; content is a field or the JSON of the secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-vault-'));
    const path = join(dir, 'sub', 'db.pw');
    await writeSecretFile(path, fileContent({ secret: 'db', field: 'password', path, mode: '0600' }, { password: 's3cret-value' }), 0o600, undefined);
    expect(readFileSync(path, 'utf8')).toBe('s3cret-value');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(fileContent({ secret: 'db', path, mode: '0600' }, { a: 'b' })).toBe('{\n  "a": "b"\n}\n');
    expect(() => fileContent({ secret: 'db', field: 'nope', path, mode: '0600' }, { a: 'secret-a' })).toThrow(/no field "nope".*fields: a\)/);
  });

  it.runIf(process.getuid?.() === 0)("a file is owned by its job's user (or its own user:)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-vault-'));
    const path = join(dir, 'owned');
    const jobs = [job({ name: 'app', user: 'nobody' })];
    const owner = fileOwner({ secret: 'db', path, mode: '0600', job: 'app' }, jobs);
    expect(owner?.uid).toBe(65534);
    await writeSecretFile(path, 'x-secret', 0o600, owner);
    expect(statSync(path).uid).toBe(65534);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(fileOwner({ secret: 'db', path, mode: '0600', job: 'app', user: '0:0' }, jobs)).toEqual({ uid: 0, gid: 0 });
    expect(fileOwner({ secret: 'db', path, mode: '0600' }, jobs)).toBeUndefined();
  });

  it('every string inside a secret is registered with the redactor', async () => {
    const value = `canary-${Math.random().toString(36).slice(2)}`;
    registerValues({ nested: { list: ['x', value] } });
    expect(redactor.scrub(`{"msg":"got ${value}"}`)).toBe('{"msg":"got [REDACTED]"}');
  });
});
