// Smoke tests: each real server answers through the client Pilotfish uses.
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import Consul from 'consul';
import mariadb from 'mariadb';
import vault from 'node-vault';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices, services } from '../helpers/services.js';

// consul@2's typings omit the blocking-query options its kv.get accepts.
type BlockingGet = (options: { key: string; index: string; wait: string; timeout: number }) => Promise<{ Value: string | null; ModifyIndex: number } | null>;

function consulClient(): Consul {
  const url = new URL(services().CONSUL_HTTP_ADDR);
  return new Consul({ host: url.hostname, port: Number(url.port) });
}

/** Resolves with the first value of `probe` that satisfies `done`, polling every 200 ms. */
async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describeWithServices('consul (real agent)', ['consul'], () => {
  const prefix = `smoke/${randomUUID()}`;
  let consul: Consul;
  beforeAll(() => {
    consul = consulClient();
  });
  afterAll(async () => {
    await consul.kv.del({ key: prefix, recurse: true });
  });

  it('puts and gets a key', async () => {
    expect(await consul.kv.set(`${prefix}/greeting`, 'hello')).toBe(true);
    const item = await consul.kv.get(`${prefix}/greeting`);
    expect(item?.Value).toBe('hello');
  });

  it('answers a blocking query only when the key changes', async () => {
    const key = `${prefix}/blocking`;
    await consul.kv.set(key, 'v1');
    const before = await consul.kv.get(key);
    let answered = false;
    // The request timeout is longer than `wait`, as a blocking query needs.
    const blockingGet = consul.kv.get.bind(consul.kv) as BlockingGet;
    const blocked = blockingGet({ key, index: String(before?.ModifyIndex), wait: '20s', timeout: 25_000 }).then((item) => {
      answered = true;
      return item;
    });
    // Still blocked after a while: the server holds the request open.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(answered).toBe(false);
    await consul.kv.set(key, 'v2');
    const after = await blocked;
    expect(after?.Value).toBe('v2');
    expect(after?.ModifyIndex).toBeGreaterThan(before?.ModifyIndex ?? 0);
  });

  it('turns a service critical when its TTL check is not renewed', async () => {
    const id = `smoke-${randomUUID().slice(0, 8)}`;
    await consul.agent.service.register({ name: id, id, check: { name: 'ttl', ttl: '1s', timeout: '1s' } });
    try {
      await consul.agent.check.pass(`service:${id}`);
      const passing = await consul.health.checks(id);
      expect(passing[0]?.Status).toBe('passing');
      const critical = await eventually(
        () => consul.health.checks(id),
        (checks) => checks[0]?.Status === 'critical',
        10_000,
      );
      expect(critical[0]?.CheckID).toBe(`service:${id}`);
    } finally {
      await consul.agent.service.deregister(id);
    }
  });

  it('grants a session lock to one holder only', async () => {
    const key = `${prefix}/leader`;
    const a = await consul.session.create({ name: 'smoke-a', ttl: '10s', lockdelay: '0s', behavior: 'release' });
    const b = await consul.session.create({ name: 'smoke-b', ttl: '10s', lockdelay: '0s', behavior: 'release' });
    try {
      expect(await consul.kv.set({ key, value: 'a', acquire: a.ID })).toBe(true);
      // consul@2 resolves a refused acquire to undefined, not false.
      expect(await consul.kv.set({ key, value: 'b', acquire: b.ID })).toBeFalsy();
      const held = await consul.kv.get(key);
      expect(held).toMatchObject({ Session: a.ID, LockIndex: 1 });
      expect(await consul.kv.set({ key, value: 'a', release: a.ID })).toBe(true);
      expect(await consul.kv.set({ key, value: 'b', acquire: b.ID })).toBe(true);
      expect(await consul.kv.get(key)).toMatchObject({ Session: b.ID, LockIndex: 2 });
    } finally {
      await consul.session.destroy(a.ID);
      await consul.session.destroy(b.ID);
    }
  });
});

describeWithServices('vault (real dev server)', ['vault'], () => {
  const path = `smoke/${randomUUID()}`;
  const root = () => vault({ apiVersion: 'v1', endpoint: services().VAULT_ADDR, token: services().VAULT_TOKEN });

  it('writes and reads a KV v2 secret under secret/data/', async () => {
    const client = root();
    await client.write(`secret/data/${path}`, { data: { password: 's3cret' } });
    const read = await client.read(`secret/data/${path}`);
    expect(read.data.data).toEqual({ password: 's3cret' });
    expect(read.data.metadata.version).toBe(1);
  });

  it('writes and reads a KV v1 secret under kv1/', async () => {
    const client = root();
    await client.write(`kv1/${path}`, { user: 'app' });
    expect((await client.read(`kv1/${path}`)).data).toEqual({ user: 'app' });
  });

  it('logs in with AppRole and reads through the policy it grants', async () => {
    const client = root();
    const role = `smoke-${randomUUID().slice(0, 8)}`;
    await client.write(`sys/policies/acl/${role}`, {
      policy: `path "secret/data/${path}" { capabilities = ["read"] }`,
    });
    await client.write(`auth/approle/role/${role}`, { token_policies: role, token_ttl: '5m' });
    const roleId: string = (await client.read(`auth/approle/role/${role}/role-id`)).data.role_id;
    const secretId: string = (await client.write(`auth/approle/role/${role}/secret-id`, {})).data.secret_id;

    const app = vault({ apiVersion: 'v1', endpoint: services().VAULT_ADDR });
    const login = await app.approleLogin({ role_id: roleId, secret_id: secretId });
    expect(login.auth.policies).toContain(role);
    app.token = login.auth.client_token;
    await client.write(`secret/data/${path}`, { data: { password: 'rotated' } });
    expect((await app.read(`secret/data/${path}`)).data.data).toEqual({ password: 'rotated' });
    await expect(app.write(`secret/data/${path}`, { data: {} })).rejects.toMatchObject({
      response: { statusCode: 403 },
    });
  });
});

describeWithServices('s3 (real MinIO)', ['s3'], () => {
  const prefix = `smoke/${randomUUID()}/`;
  const bucket = () => services().PILOTFISH_TEST_BUCKET;
  // Endpoint, credentials and region come from the AWS_* variables.
  const s3 = () => new S3Client({ forcePathStyle: true });

  it('puts, gets and lists objects', async () => {
    const client = s3();
    await client.send(new PutObjectCommand({ Bucket: bucket(), Key: `${prefix}a.txt`, Body: 'alpha' }));
    await client.send(new PutObjectCommand({ Bucket: bucket(), Key: `${prefix}b.txt`, Body: 'beta' }));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket(), Key: `${prefix}a.txt` }));
    expect(await got.Body?.transformToString()).toBe('alpha');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: prefix }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([`${prefix}a.txt`, `${prefix}b.txt`]);
  });

  it('refuses a second conditional put with If-None-Match: * (412)', async () => {
    const client = s3();
    const key = `${prefix}lock.json`;
    await client.send(new PutObjectCommand({ Bucket: bucket(), Key: key, Body: '{"owner":1}', IfNoneMatch: '*' }));
    const second = client.send(new PutObjectCommand({ Bucket: bucket(), Key: key, Body: '{"owner":2}', IfNoneMatch: '*' }));
    await expect(second).rejects.toBeInstanceOf(S3ServiceException);
    await expect(second).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    const got = await client.send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
    expect(await got.Body?.transformToString()).toBe('{"owner":1}');
  });
});

describeWithServices('mariadb (real server)', ['mariadb'], () => {
  it('answers a query over the unix socket and over TCP', async () => {
    const env = services();
    const viaSocket = await mariadb.createConnection({
      socketPath: env.MARIADB_SOCKET,
      user: env.MARIADB_USER,
      password: env.MARIADB_PASSWORD,
    });
    const viaTcp = await mariadb.createConnection({
      host: env.MARIADB_HOST,
      port: Number(env.MARIADB_PORT),
      user: env.MARIADB_USER,
      password: env.MARIADB_PASSWORD,
    });
    try {
      const [row] = await viaSocket.query<{ v: string }[]>('SELECT VERSION() AS v');
      expect(row?.v).toMatch(/MariaDB/);
      const [sum] = await viaTcp.query<{ n: number }[]>('SELECT 1 + 1 AS n');
      expect(Number(sum?.n)).toBe(2);
    } finally {
      await viaSocket.end();
      await viaTcp.end();
    }
  });
});
