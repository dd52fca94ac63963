// MariaDB (examples/mariadb/pilotfish.yaml and its bin/ scripts, unchanged) against real
// Consul, Vault and MinIO: each "node" is Pilotfish as PID 1 of its own PID namespace running
// its own mariadbd (own datadir, binlog dir, socket and port).
//   1. cold start of one node: it is elected, initialises the cluster, is writable, and a
//      backup (mariadb-backup --stream) exists;
//   2. a replica added after further writes restores that backup, replicates from the primary
//      with GTID, is read-only, and CHECKSUM TABLE matches the primary;
//   3. the primary is killed: the replica is elected, promoted and writable, with every write
//      that had replicated;
//   4. three nodes started at the same moment: exactly one initialises, the others replicate;
//      a graceful stop of the primary fails over within 3 s; the last replica follows.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { killAll, ROOT, startPilotfish, type Running } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { kvDeleteTree, removeTempDirs, s3Env, tempDir, uniqueName, vaultPut } from './helpers.js';

const run = promisify(execFile);
const CONFIG = readFileSync(join(ROOT, 'examples/mariadb/pilotfish.yaml'), 'utf8');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Node {
  name: string;
  socket: string;
  pf: Running;
}

async function sql(node: Node, query: string): Promise<string> {
  const { stdout } = await run('mariadb', ['--no-defaults', '--protocol=socket', `--socket=${node.socket}`, '-uroot', '-N', '-B', '-e', query], {
    timeout: 20_000,
  });
  return stdout.trim();
}

/** A node's log without debug lines and mariadbd's notes, for failure messages. */
function outputOf(node: Node): string {
  return node.pf
    .output()
    .split('\n')
    .filter((l) => !l.includes('"level":"debug"') && !l.includes('[Note]') && !l.includes('[Warning]'))
    .slice(-60)
    .join('\n');
}

describeWithServices('e2e: MariaDB primary/replica (examples/mariadb)', ['consul', 'vault', 's3'], () => {
  const clusters: string[] = [];
  afterAll(async () => {
    await killAll();
    removeTempDirs();
    for (const id of clusters) await kvDeleteTree(`e2e/${id}`).catch(() => undefined);
  });

  /** A new cluster: its own election key, Vault path and S3 prefix. */
  async function newCluster(): Promise<string> {
    const id = uniqueName('db');
    clusters.push(id);
    await vaultPut(`e2e/${id}/root`, { password: `root-${randomBytes(8).toString('hex')}` });
    await vaultPut(`e2e/${id}/replication`, { user: 'replicator', password: `repl-${randomBytes(8).toString('hex')}` });
    return id;
  }

  async function startNode(id: string, name: string, serverId: number): Promise<Node> {
    const dir = tempDir(`pf-e2e-${name}-`);
    const socket = join(dir, 'run/mysqld.sock');
    const s = services();
    const env = {
      ...s3Env(),
      CONSUL_HTTP_ADDR: s.CONSUL_HTTP_ADDR,
      VAULT_ADDR: s.VAULT_ADDR,
      VAULT_TOKEN: s.VAULT_TOKEN,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug',
      HOSTNAME: `${id}-${name}`,
      PILOTFISH_SOCKET: join(dir, 'pilotfish.sock'),
      DB_BIN: join(ROOT, 'examples/mariadb/bin'),
      DB_DATADIR: join(dir, 'data'),
      DB_BINLOG_DIR: join(dir, 'binlog'),
      DB_TMPDIR: dir,
      DB_SOCKET: socket,
      DB_PORT: String(await freePort()),
      DB_USER: 'root',
      DB_SERVER_ID: String(serverId), // every node of this test shares the host's IP address
      DB_BUFFER_POOL: '32M',
      DB_VAULT_PATH: `e2e/${id}`,
      DB_ELECTION_KEY: `e2e/${id}/primary`,
      BACKUP_BUCKET: s.PILOTFISH_TEST_BUCKET,
      BACKUP_PREFIX: `e2e/${id}/`,
      BACKUP_QUIET: '1s',
    };
    return { name, socket, pf: startPilotfish(CONFIG, { pid1: true, env, dir }) };
  }

  it('cold start: one primary, initialised, writable, and a backup; then a replica restores it, replicates and matches; the primary killed, the replica takes over', async () => {
    const id = await newCluster();

    // --- 1. cold start of one node ------------------------------------------------------------
    const a = await startNode(id, 'a', 1);
    await a.pf.waitForLog((l) => l.job === 'promote' && /exited/.test(l.msg) && l.code === 0, 90_000);
    expect(await sql(a, 'SELECT @@read_only')).toBe('0');
    expect(await sql(a, 'SELECT COUNT(*) FROM pilotfish.cluster')).toBe('1');
    await a.pf.waitForLog((l) => l.msg.startsWith('backed up'), 60_000);

    // Writes after the first backup.
    await sql(a, 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64)) ENGINE=InnoDB');
    for (let i = 0; i < 20; i++) await sql(a, `INSERT INTO app.t (v) VALUES ('row ${i} ${randomBytes(8).toString('hex')}')`);
    await a.pf.waitForLog((l) => l.msg.startsWith('backed up') && l.reason === 'activity', 60_000);
    await sql(a, "INSERT INTO app.t (v) VALUES ('after the backup')"); // only replication carries this one

    // --- 2. a replica added later -------------------------------------------------------------
    const b = await startNode(id, 'b', 2);
    await b.pf.waitForLog((l) => l.msg.startsWith('restored snapshot'), 90_000);
    await waitFor(async () => (await sql(b, 'SELECT COUNT(*) FROM app.t').catch(() => '')) === '21', {
      timeout: 60_000,
      message: `the replica to catch up; its output:\n${b.pf.output().slice(-4000)}`,
    });
    // A write on the primary now reaches the replica through replication.
    await sql(a, "INSERT INTO app.t (v) VALUES ('replicated')");
    await waitFor(async () => (await sql(b, "SELECT COUNT(*) FROM app.t WHERE v = 'replicated'")) === '1', {
      timeout: 30_000,
      message: `the replicated row; the replica's output:\n${b.pf.output().slice(-4000)}`,
    });
    expect(await sql(b, 'SELECT @@read_only')).toBe('1');
    const { stdout: status } = await run('mariadb', ['--no-defaults', '--protocol=socket', `--socket=${b.socket}`, '-uroot', '-e', 'SHOW SLAVE STATUS\\G']);
    expect(status).toMatch(/Using_Gtid: Slave_Pos/);
    expect(status).toMatch(/Slave_SQL_Running: Yes/);
    // The replica is set up once, not re-pointed on every reconcile run.
    expect(b.pf.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('replicating from')).length).toBe(1);
    expect(await sql(b, 'CHECKSUM TABLE app.t, pilotfish.cluster')).toBe(await sql(a, 'CHECKSUM TABLE app.t, pilotfish.cluster'));
    // Exactly one primary.
    expect(a.pf.logs.filter((l) => l.job === 'promote' && /started/.test(l.msg))).toHaveLength(1);
    expect(b.pf.logs.some((l) => l.job === 'promote')).toBe(false);

    // --- 3. the primary is killed (kill -9 of its whole PID namespace, mariadbd included) -----
    await sql(a, "INSERT INTO app.t (v) VALUES ('last acknowledged write')");
    await waitFor(async () => (await sql(b, "SELECT COUNT(*) FROM app.t WHERE v = 'last acknowledged write'")) === '1', { timeout: 20_000, message: 'the last write to replicate' });
    const killedAt = Date.now();
    await a.pf.kill();
    await b.pf.waitForLog((l) => l.job === 'promote' && /exited/.test(l.msg) && l.code === 0, 60_000);
    const failoverMs = Date.now() - killedAt;
    console.info(`mariadb e2e: the replica was promoted ${failoverMs} ms after kill -9 of the primary`);
    expect(await sql(b, 'SELECT @@read_only')).toBe('0');
    expect(await sql(b, "SELECT COUNT(*) FROM app.t WHERE v = 'last acknowledged write'")).toBe('1'); // nothing replicated was lost
    await sql(b, "INSERT INTO app.t (v) VALUES ('written on the new primary')");
    // The service check TTL (2 x 2 s) + lock-delay (2 s) + the candidate gate bound it.
    expect(failoverMs).toBeLessThan(20_000);
  }, 240_000);

  it('three nodes at the same moment: exactly one initialises, the others replicate; a graceful stop of the primary fails over within 3 s and the last replica follows', async () => {
    const id = await newCluster();
    const nodes = await Promise.all([startNode(id, 'x', 11), startNode(id, 'y', 12), startNode(id, 'z', 13)]);
    const promoted = (n: Node): boolean => n.pf.logs.some((l) => l.job === 'promote' && /exited/.test(l.msg) && l.code === 0);
    const primary = await waitFor(() => nodes.find(promoted), { timeout: 90_000, message: 'a primary' });
    const replicas = nodes.filter((n) => n !== primary);
    await sql(primary, 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64)); INSERT INTO app.t (v) VALUES (1), (2), (3)');
    for (const r of replicas) {
      await waitFor(async () => (await sql(r, 'SELECT COUNT(*) FROM app.t').catch(() => '')) === '3', {
        timeout: 30_000,
        message: `replica ${r.name} to replicate`,
      }).catch((error: Error) => {
        throw new Error(`${error.message}; its log (no debug):\n${outputOf(r)}`);
      });
      expect(await sql(r, 'SELECT @@read_only')).toBe('1');
    }
    const initialised = nodes.flatMap((n) => n.pf.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('initialising a new cluster')));
    expect(initialised).toHaveLength(1);
    expect(await sql(replicas[0] as Node, 'SELECT COUNT(*) FROM pilotfish.cluster')).toBe('1');

    // Graceful stop of the primary: it steps down (read-only first), another node takes over.
    const stoppedAt = Date.now();
    await primary.pf.signal('SIGTERM');
    const next = await waitFor(() => replicas.find(promoted), { timeout: 15_000, message: 'a new primary' });
    const failoverMs = Date.now() - stoppedAt;
    console.info(`mariadb e2e: graceful stop of the primary, new primary writable after ${failoverMs} ms`);
    expect(failoverMs).toBeLessThan(3_000);
    expect(primary.pf.logs.some((l) => l.job === 'demote' && /demoted: read-only/.test(l.msg))).toBe(true);
    await primary.pf.exited;
    expect(await sql(next, 'SELECT @@read_only')).toBe('0');

    // The remaining replica repoints to the new primary and gets its writes.
    const last = replicas.find((n) => n !== next) as Node;
    await sql(next, "INSERT INTO app.t (v) VALUES ('after the failover')");
    await waitFor(async () => (await sql(last, "SELECT COUNT(*) FROM app.t WHERE v = 'after the failover'").catch(() => '')) === '1', {
      timeout: 30_000,
      message: 'the last replica to follow the new primary',
    });
    expect(await sql(last, 'CHECKSUM TABLE app.t')).toBe(await sql(next, 'CHECKSUM TABLE app.t'));
  }, 240_000);
});
