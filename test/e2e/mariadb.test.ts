// MariaDB (examples/mariadb/pilotfish.yaml and its bin/ scripts, unchanged) against real
// Consul, Vault and MinIO: each "node" is Pilotfish as PID 1 of its own PID namespace running
// its own mariadbd (own datadir, binlog dir, socket and port).
//   1. cold start of one node: it is elected, initialises the cluster, is writable, and a
//      backup (mariadb-backup --stream) exists;
//   2. a replica added after further writes restores that backup, replicates from the primary
//      with GTID, is read-only, and CHECKSUM TABLE matches the primary;
//   3. the primary is killed: the replica is elected, promoted and writable, with every write
//      that had replicated.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { killAll, ROOT, startPilotfish, type Running } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { kvDeleteTree, s3Env, uniqueName, vaultPut } from './helpers.js';

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

describeWithServices('e2e: MariaDB primary/replica (examples/mariadb)', ['consul', 'vault', 's3'], () => {
  const id = uniqueName('db');
  const electionKey = `e2e/${id}/primary`;
  afterAll(async () => {
    await killAll();
    await kvDeleteTree(`e2e/${id}`).catch(() => undefined);
  });

  async function startNode(name: string, serverId: number): Promise<Node> {
    const dir = mkdtempSync(join(tmpdir(), `pf-e2e-${name}-`));
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
      DB_ELECTION_KEY: electionKey,
      BACKUP_BUCKET: s.PILOTFISH_TEST_BUCKET,
      BACKUP_PREFIX: `e2e/${id}/`,
      BACKUP_QUIET: '1s',
    };
    return { name, socket, pf: startPilotfish(CONFIG, { pid1: true, env, dir }) };
  }

  it('cold start: one primary, initialised, writable, and a backup; then a replica restores it, replicates and matches; the primary killed, the replica takes over', async () => {
    await vaultPut(`e2e/${id}/root`, { password: `root-${randomBytes(8).toString('hex')}` });
    await vaultPut(`e2e/${id}/replication`, { user: 'replicator', password: `repl-${randomBytes(8).toString('hex')}` });

    // --- 1. cold start of one node ------------------------------------------------------------
    const a = await startNode('a', 1);
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
    const b = await startNode('b', 2);
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
});
