// MariaDB (examples/mariadb/pilotfish.yaml and its bin/ scripts, unchanged) against real
// Consul, Vault and MinIO. Each "node" is Pilotfish as PID 1 of its own PID namespace, in its
// own network namespace on a bridge (scripts/services host add), with its own Consul client
// agent there, joined to a one-server Consul cluster; Vault and MinIO are reached through the
// bridge's gateway. Every mariadbd listens on 3306 of its namespace and takes its server_id
// from its IPv4 address (bin/lib.sh).
//   1. cold start of one node: elected, initialised, writable, backed up; writes cause an
//      `activity` backup, then without writes the next backup is `max-age`, no sooner; a
//      replica added later restores, replicates with GTID, matches (CHECKSUM TABLE); kill -9
//      of the primary: the replica is promoted within the election bound, nothing lost;
//   2. three nodes started at the same moment: exactly one initialises, the other two wait for
//      its first backup, restore it and replicate; SIGTERM of the primary fails over within
//      3 s and the last replica follows;
//   3. the primary's link is cut while one replica lags behind: the MOST ADVANCED replica is
//      promoted within the election bound, the cut-off primary makes itself read-only, and
//      once healed it rejoins as a replica of the new primary; no replicated write is lost.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call } from '../../src/cli/client.js';
import { ClientAgent, removeTempDirs as removeAgentDirs } from '../election/harness.js';
import { CLI, killAll, ROOT, startPilotfish, type LogLine, type Running } from '../helpers/pilotfish.js';
import { describeWithServices, services, startConsulCluster, type ConsulCluster } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { forwardTcp, removeTempDirs, s3Env, tempDir, uniqueName, vaultPut } from './helpers.js';

const run = promisify(execFile);
const CONFIG = readFileSync(join(ROOT, 'examples/mariadb/pilotfish.yaml'), 'utf8');
/** election.ttl and lockDelay of examples/mariadb/pilotfish.yaml. */
const TTL = 10_000;
const LOCK_DELAY = 2_000;
/** backup.triggers.maxAge for these tests (BACKUP_MAX_AGE). */
const MAX_AGE = 15_000;

interface Node {
  name: string;
  ip: string;
  netns: string;
  socket: string;
  control: string;
  pf: Running;
}

async function sql(node: Node, query: string): Promise<string> {
  const { stdout } = await run('mariadb', ['--no-defaults', '--protocol=socket', `--socket=${node.socket}`, '-uroot', '-N', '-B', '-e', query], {
    timeout: 20_000,
  });
  return stdout.trim();
}

const count = async (node: Node, where: string): Promise<string> => sql(node, `SELECT COUNT(*) FROM app.t WHERE ${where}`).catch(() => '');

/** A node's log without debug lines and mariadbd's notes, for failure messages. */
function outputOf(node: Node): string {
  return node.pf
    .output()
    .split('\n')
    .filter((l) => !l.includes('"level":"debug"') && !l.includes('[Note]') && !l.includes('[Warning]'))
    .slice(-60)
    .join('\n');
}

const says = (node: Node, text: string): LogLine[] => node.pf.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes(text));
const promoted = (n: Node): boolean => n.pf.logs.some((l) => l.job === 'promote' && /exited/.test(l.msg) && l.code === 0);

interface Snapshot {
  name: string;
  time: string;
  reason: string;
}

/** The store's snapshots, oldest first, as the node's Pilotfish lists them. */
async function snapshots(node: Node): Promise<Snapshot[]> {
  const reply = await call<Snapshot[]>(node.control, 'GET', '/v1/backup/snapshots');
  return [...(reply.body ?? [])].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

describeWithServices('e2e: MariaDB primary/replica (examples/mariadb)', ['consul', 'vault', 's3', 'consul-cluster'], () => {
  let cluster: ConsulCluster;
  const agents: ClientAgent[] = [];
  const forwards: Array<{ url: string; close(): Promise<void> }> = [];

  beforeAll(async () => {
    cluster = await startConsulCluster(1);
    const gateway = cluster.env.PILOTFISH_NET_GATEWAY as string;
    forwards.push(await forwardTcp(gateway, services().VAULT_ADDR), await forwardTcp(gateway, services().AWS_ENDPOINT_URL_S3));
  }, 120_000);

  afterAll(async () => {
    await killAll();
    await Promise.all(agents.map((a) => a.stop()));
    for (const f of forwards) await f.close();
    await cluster?.stop();
    removeTempDirs();
    removeAgentDirs();
  }, 120_000);

  /** A new cluster of nodes: its own election key, Vault path and S3 prefix. */
  async function newCluster(): Promise<string> {
    const id = uniqueName('db');
    await vaultPut(`e2e/${id}/root`, { password: `root-${randomBytes(8).toString('hex')}` });
    await vaultPut(`e2e/${id}/replication`, { user: 'replicator', password: `repl-${randomBytes(8).toString('hex')}` });
    return id;
  }

  /** Hosts on the bridge with a joined Consul agent each, then their Pilotfish, all at once. */
  async function startNodes(id: string, names: string[]): Promise<Node[]> {
    const servers = cluster.addrs.map((a) => new URL(a).hostname);
    const hosts: Array<{ name: string; netns: string; ip: string; agent: ClientAgent }> = [];
    for (const name of names) {
      // One at a time: `host add` picks the next free address from the set's state file.
      const host = await cluster.addHost(name);
      const agent = new ClientAgent(name, host.netns, host.ip, servers);
      agents.push(agent);
      hosts.push({ name, ...host, agent });
    }
    await Promise.all(hosts.map((h) => h.agent.joined(cluster.addrs[0] as string)));
    const [vault, s3] = forwards as unknown as [{ url: string }, { url: string }];
    return hosts.map(({ name, netns, ip }) => {
      const dir = tempDir(`pf-e2e-${name}-`);
      const env = {
        ...s3Env(),
        AWS_ENDPOINT_URL_S3: s3.url,
        CONSUL_HTTP_ADDR: 'http://127.0.0.1:8500', // the agent in the node's namespace
        VAULT_ADDR: vault.url,
        VAULT_TOKEN: services().VAULT_TOKEN,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'debug',
        HOSTNAME: `${id}-${name}`,
        PILOTFISH_SOCKET: join(dir, 'pilotfish.sock'),
        PILOTFISH_CONFIG: join(dir, 'pilotfish.yaml'), // written by startPilotfish
        PILOTFISH_BIN: `${process.execPath} ${CLI}`,
        DB_BIN: join(ROOT, 'examples/mariadb/bin'),
        DB_DATADIR: join(dir, 'data'),
        DB_BINLOG_DIR: join(dir, 'binlog'),
        DB_TMPDIR: dir,
        DB_SOCKET: join(dir, 'run/mysqld.sock'),
        DB_USER: 'root',
        DB_BUFFER_POOL: '32M',
        DB_VAULT_PATH: `e2e/${id}`,
        DB_ELECTION_KEY: `e2e/${id}/primary`,
        BACKUP_BUCKET: services().PILOTFISH_TEST_BUCKET,
        BACKUP_PREFIX: `e2e/${id}/`,
        BACKUP_QUIET: '1s',
        BACKUP_MAX_AGE: `${MAX_AGE / 1000}s`,
      };
      const pf = startPilotfish(CONFIG, { pid1: true, netns, env, dir });
      return { name, ip, netns, socket: env.DB_SOCKET, control: env.PILOTFISH_SOCKET, pf };
    });
  }

  async function startNode(id: string, name: string): Promise<Node> {
    return (await startNodes(id, [name]))[0] as Node;
  }

  async function waitPromoted(node: Node, timeout: number): Promise<void> {
    await waitFor(() => promoted(node), { timeout, message: `${node.name} to be promoted; its log:\n${outputOf(node)}` });
  }

  async function waitRows(node: Node, where: string, n: number, timeout = 30_000): Promise<void> {
    await waitFor(async () => (await count(node, where)) === String(n), {
      timeout,
      message: `${n} rows where ${where} on ${node.name}; its log:\n${outputOf(node)}`,
    });
  }

  it('cold start, activity and max-age backups, a replica added later, kill -9 of the primary', async () => {
    const id = await newCluster();

    // --- cold start of one node --------------------------------------------------------------
    const a = await startNode(id, 'a');
    await waitPromoted(a, 90_000);
    expect(await sql(a, 'SELECT @@read_only')).toBe('0');
    expect(await sql(a, 'SELECT COUNT(*) FROM pilotfish.cluster')).toBe('1');
    const [o1, o2, o3, o4] = a.ip.split('.').map(Number) as [number, number, number, number];
    expect(await sql(a, 'SELECT @@server_id')).toBe(String(o1 * 2 ** 24 + o2 * 2 ** 16 + o3 * 2 ** 8 + o4));
    await a.pf.waitForLog((l) => l.msg.startsWith('backed up'), 60_000);

    // --- activity: writes cause a backup -------------------------------------------------------
    await sql(a, 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64)) ENGINE=InnoDB');
    for (let i = 0; i < 20; i++) await sql(a, `INSERT INTO app.t (v) VALUES ('row ${i} ${randomBytes(8).toString('hex')}')`);
    const lastWrite = Date.now();
    // The writes may span more than one quiet period (and a backup may queue one more run):
    // the backups that matter start after the last write.
    await waitFor(async () => (await snapshots(a)).some((s) => s.reason === 'activity' && Date.parse(s.time) > lastWrite), {
      timeout: 60_000,
      interval: 500,
      message: 'an activity backup after the last write',
    });

    // --- no activity: the next backup is max-age, not before MAX_AGE --------------------------
    const maxAged = await waitFor(async () => (await snapshots(a)).find((s) => s.reason === 'max-age' && Date.parse(s.time) > lastWrite), {
      timeout: MAX_AGE + 40_000,
      interval: 500,
      message: 'a max-age backup',
    });
    const list = await snapshots(a);
    const before = list[list.findIndex((s) => s.name === maxAged.name) - 1] as Snapshot;
    expect(before.reason, JSON.stringify(list)).toBe('activity'); // nothing in between
    expect(Date.parse(maxAged.time) - Date.parse(before.time), JSON.stringify(list)).toBeGreaterThanOrEqual(MAX_AGE);
    await sql(a, "INSERT INTO app.t (v) VALUES ('after the backup')"); // only replication carries this one

    // --- a replica added later ---------------------------------------------------------------
    const b = await startNode(id, 'b');
    await b.pf.waitForLog((l) => l.msg.startsWith('restored snapshot'), 90_000);
    await waitRows(b, '1', 21, 60_000);
    await sql(a, "INSERT INTO app.t (v) VALUES ('replicated')");
    await waitRows(b, "v = 'replicated'", 1);
    expect(await sql(b, 'SELECT @@read_only')).toBe('1');
    const { stdout: status } = await run('mariadb', ['--no-defaults', '--protocol=socket', `--socket=${b.socket}`, '-uroot', '-e', 'SHOW SLAVE STATUS\\G']);
    expect(status).toMatch(/Using_Gtid: Slave_Pos/);
    expect(status).toMatch(/Slave_SQL_Running: Yes/);
    expect(status).toContain(`Master_Host: ${a.ip}`);
    // Set up once, not re-pointed on every reconcile run.
    expect(says(b, 'replicating from')).toHaveLength(1);
    expect(await sql(b, 'CHECKSUM TABLE app.t, pilotfish.cluster')).toBe(await sql(a, 'CHECKSUM TABLE app.t, pilotfish.cluster'));
    expect(a.pf.logs.filter((l) => l.job === 'promote' && /started/.test(l.msg))).toHaveLength(1);
    expect(b.pf.logs.some((l) => l.job === 'promote')).toBe(false);
    // primaryOnly: the replica's binlog moved, but only the primary backed up.
    expect(says(b, 'backed up')).toHaveLength(0);

    // --- kill -9 of the primary's PID namespace (mariadbd included) ----------------------------
    await sql(a, "INSERT INTO app.t (v) VALUES ('last acknowledged write')");
    await waitRows(b, "v = 'last acknowledged write'", 1, 20_000);
    const killedAt = Date.now();
    await a.pf.signal('SIGKILL'); // PID 1 of its namespace: the kernel kills the rest
    await a.pf.exited;
    await waitPromoted(b, 60_000);
    const failoverMs = Date.now() - killedAt;
    console.info(`mariadb e2e: the replica was promoted ${failoverMs} ms after kill -9 of the primary`);
    expect(await sql(b, 'SELECT @@read_only')).toBe('0');
    expect(await count(b, "v = 'last acknowledged write'")).toBe('1');
    await sql(b, "INSERT INTO app.t (v) VALUES ('written on the new primary')");
    // The service check's TTL (2 × the 2 s health interval) + lock-delay + rank, gate and promote.
    expect(failoverMs).toBeLessThan(20_000);
  }, 240_000);

  it('three nodes at the same moment: one initialises, the others restore its first backup and replicate; SIGTERM fails over within 3 s', async () => {
    const id = await newCluster();
    const nodes = await startNodes(id, ['x', 'y', 'z']);
    const primary = await waitFor(() => nodes.find(promoted), { timeout: 90_000, message: 'a primary' });
    const replicas = nodes.filter((n) => n !== primary);
    await sql(
      primary,
      'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64)); INSERT INTO app.t (v) VALUES (1), (2), (3)',
    );
    for (const r of replicas) {
      await waitFor(() => says(r, 'replicating from').length > 0, { timeout: 90_000, message: `${r.name} to replicate; its log:\n${outputOf(r)}` });
    }
    await sql(primary, "INSERT INTO app.t (v) VALUES ('replicated')"); // only replication brings this one now
    for (const r of replicas) {
      await waitRows(r, "v = 'replicated'", 1, 30_000);
      expect(await sql(r, 'SELECT @@read_only')).toBe('1');
      // It restored the first backup (in mariadbd.sh, before its server started again) and
      // replicated only after that, from the backup's GTID.
      const restoredAt = says(r, 'restored from a backup at GTID')[0]?.time as number | undefined;
      const replicatingAt = says(r, 'replicating from')[0]?.time as number | undefined;
      expect(says(r, 'restoring the newest backup before starting'), outputOf(r)).toHaveLength(1);
      expect(restoredAt, outputOf(r)).toBeDefined();
      expect(replicatingAt as number).toBeGreaterThanOrEqual(restoredAt as number);
    }
    const initialised = nodes.flatMap((n) => says(n, 'initialising a new cluster'));
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
    await waitRows(last, "v = 'after the failover'", 1);
    expect(await sql(last, 'CHECKSUM TABLE app.t')).toBe(await sql(next, 'CHECKSUM TABLE app.t'));
  }, 240_000);

  it('the primary cut off while a replica lags: the most advanced replica is promoted, the old primary demotes, then rejoins', async () => {
    const id = await newCluster();
    const p = await startNode(id, 'p');
    await waitPromoted(p, 90_000);
    await sql(p, 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64)); INSERT INTO app.t (v) VALUES (1), (2), (3)');
    await p.pf.waitForLog((l) => l.msg.startsWith('backed up'), 60_000);
    // q's id sorts first: with equal ranks it would win.
    const [q, r] = (await startNodes(id, ['q', 'r'])) as [Node, Node];
    for (const n of [q, r]) await waitRows(n, '1', 3, 90_000);

    // q stops receiving: p's packets to q are dropped. r gets writes q never sees.
    await run('ip', ['-n', p.netns, 'route', 'add', 'blackhole', `${q.ip}/32`]);
    for (let i = 0; i < 5; i++) await sql(p, `INSERT INTO app.t (v) VALUES ('only r has this ${i}')`);
    await waitRows(r, "v LIKE 'only r has this%'", 5);
    expect(await count(q, "v LIKE 'only r has this%'")).toBe('0');

    const cutAt = Date.now();
    await cluster.cut(p.name);
    try {
      // The cut-off primary cannot renew its session: it demotes itself, read-only.
      await waitFor(() => p.pf.logs.some((l) => l.job === 'demote' && /demoted: read-only/.test(l.msg)), {
        timeout: TTL,
        message: `${p.name} to demote; its log:\n${outputOf(p)}`,
      });
      console.info(`mariadb e2e: the cut-off primary demoted itself after ${Date.now() - cutAt} ms`);
      expect(await sql(p, 'SELECT @@read_only')).toBe('1');

      // Consul frees the lock after up to 2×TTL + lock-delay; r, the most advanced, takes it.
      const bound = 2 * TTL + LOCK_DELAY + 5_000;
      const elected = await r.pf.waitForLog((l) => l.component === 'election' && l.msg.startsWith('elected primary'), bound);
      console.info(`mariadb e2e: the most advanced replica was elected ${Number(elected.time) - cutAt} ms after the cut`);
      expect(Number(elected.time) - cutAt).toBeLessThan(bound);
      const demotedAt = Number(p.pf.logs.find((l) => l.job === 'demote' && /demoted: read-only/.test(l.msg))?.time);
      expect(demotedAt).toBeLessThan(Number(elected.time)); // never two writable primaries
      await waitPromoted(r, 60_000);
      expect(promoted(q)).toBe(false);
      expect(says(q, `rank: mariadb-${id}-r ranks higher`).length, outputOf(q)).toBeGreaterThan(0);
      expect(await sql(r, 'SELECT @@read_only')).toBe('0');
      expect(await count(r, "v LIKE 'only r has this%'")).toBe('5');

      // q follows r and gets what it had missed.
      await sql(r, "INSERT INTO app.t (v) VALUES ('written on the new primary')");
      await waitRows(q, "v LIKE 'only r has this%' OR v = 'written on the new primary'", 6);
    } finally {
      await run('ip', ['-n', p.netns, 'route', 'del', 'blackhole', `${q.ip}/32`]).catch(() => undefined);
      await cluster.heal(p.name);
    }

    // Healed: the old primary stays read-only and rejoins as a replica of r.
    await waitRows(p, "v = 'written on the new primary'", 1, 60_000);
    expect(await sql(p, 'SELECT @@read_only')).toBe('1');
    expect(promoted(q)).toBe(false);
    expect(p.pf.logs.filter((l) => l.job === 'promote' && /started/.test(l.msg))).toHaveLength(1);
    const sum = await sql(r, 'CHECKSUM TABLE app.t');
    expect(await sql(q, 'CHECKSUM TABLE app.t')).toBe(sum);
    expect(await sql(p, 'CHECKSUM TABLE app.t')).toBe(sum);
  }, 240_000);
});
