// The MariaDB compose demo, up for real: Consul, Vault and MinIO (the stand-ins of the public
// images), and three MariaDB containers of the example's image with Pilotfish as PID 1.
//   - exactly one primary is elected; the replicas replicate with GTID;
//   - `podman kill` of the primary: another container becomes the primary with every write,
//     and the killed one, started again, rejoins as a replica and catches up;
//   - `podman network disconnect` of the primary: it makes itself read-only (fenced) before
//     another container becomes writable; reconnected, it rejoins as a replica.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { ComposeProject } from './compose.js';
import { describeWithPodman, ensureImages, ensureStandins, podman } from './podman.js';

const NODES = [1, 2, 3];

describeWithPodman('containers: compose demo examples/mariadb (election, GTID replicas, failover)', () => {
  let project: ComposeProject;
  const ids = new Map<number, string>();

  async function sql(node: number, query: string, timeout = 30_000): Promise<string> {
    return podman(
      ['exec', ids.get(node) as string, 'mariadb', '--no-defaults', '--protocol=socket', '--socket=/run/mysqld/mysqld.sock', '-uroot', '-N', '-B', '-e', query],
      timeout,
    );
  }
  /** 'primary' (writable), 'replica' (read-only, replicating with GTID), else what it is. */
  async function role(node: number): Promise<string> {
    try {
      const ro = await sql(node, 'SELECT @@read_only', 10_000);
      if (ro === '0') return 'primary';
      const status = await podman(
        [
          'exec',
          ids.get(node) as string,
          'mariadb',
          '--no-defaults',
          '--protocol=socket',
          '--socket=/run/mysqld/mysqld.sock',
          '-uroot',
          '-e',
          'SHOW SLAVE STATUS\\G',
        ],
        10_000,
      );
      return /Using_Gtid: Slave_Pos/.test(status) && /Slave_SQL_Running: Yes/.test(status) ? 'replica' : 'read-only';
    } catch {
      return 'down';
    }
  }
  async function roles(nodes = NODES): Promise<Map<number, string>> {
    return new Map(await Promise.all(nodes.map(async (n) => [n, await role(n)] as const)));
  }
  const count = async (node: number): Promise<number> => Number(await sql(node, 'SELECT COUNT(*) FROM demo.t').catch(() => '-1'));
  const primaryOf = (r: Map<number, string>): number[] => [...r].filter(([, v]) => v === 'primary').map(([n]) => n);

  beforeAll(async () => {
    ensureStandins();
    ensureImages('mariadb');
    project = new ComposeProject('mariadb', ['consul', 'vault', 'minio']);
    await project.up(['consul', 'vault', 'minio']);
    await project.once(['vault-seed', 'minio-seed']);
    await project.up(['mariadb'], 900);
    for (const n of NODES) ids.set(n, await project.id('mariadb', n));
  }, 1_800_000);
  afterAll(async () => {
    await project?.down();
  });

  it('one primary, two GTID replicas; every node a distinct server_id', async () => {
    const r = await waitFor(
      async () => {
        const r = await roles();
        return primaryOf(r).length === 1 && [...r.values()].filter((v) => v === 'replica').length === 2 ? r : undefined;
      },
      { timeout: 300_000, interval: 1000, message: 'one primary and two replicas' },
    );
    const ids = new Set(await Promise.all(NODES.map((n) => sql(n, 'SELECT @@server_id'))));
    expect(ids.size).toBe(3);
    const primary = primaryOf(r)[0] as number;
    await sql(primary, 'CREATE DATABASE demo; CREATE TABLE demo.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB');
    await sql(primary, `INSERT INTO demo.t (v) VALUES ${Array.from({ length: 100 }, (_, i) => `('before-${i}')`).join(',')}`);
    for (const n of NODES) await waitFor(async () => (await count(n)) === 100, { timeout: 60_000, interval: 500, message: `node ${n} to replicate 100 rows` });
  }, 600_000);

  it('podman kill of the primary: another becomes primary with every write; the old one rejoins as a replica', async () => {
    const old = primaryOf(await roles())[0] as number;
    const others = NODES.filter((n) => n !== old);
    await podman(['kill', ids.get(old) as string]);
    const next = await waitFor(
      async () => {
        const p = primaryOf(await roles(others));
        return p.length === 1 ? p[0] : undefined;
      },
      { timeout: 120_000, interval: 500, message: 'a new primary' },
    );
    expect(await count(next)).toBe(100);
    await sql(next, "INSERT INTO demo.t (v) VALUES ('after-kill')");
    await podman(['start', ids.get(old) as string]);
    await waitFor(async () => (await role(old)) === 'replica' && (await count(old)) === 101, {
      timeout: 300_000,
      interval: 1000,
      message: `the old primary (node ${old}) to rejoin as a replica with every row`,
    });
    expect(primaryOf(await roles())).toEqual([next]);
  }, 900_000);

  it('network disconnect of the primary: it fences itself read-only before another becomes writable; reconnected, it rejoins', async () => {
    const cut = primaryOf(await roles())[0] as number;
    const others = NODES.filter((n) => n !== cut);
    const network = `${project.name}_default`;
    const t0 = Date.now();
    await podman(['network', 'disconnect', network, ids.get(cut) as string]);
    let fencedAt: number | undefined;
    let nextAt: number | undefined;
    let next: number | undefined;
    await waitFor(
      async () => {
        const [cutRole, r] = await Promise.all([role(cut), roles(others)]);
        if (fencedAt === undefined && cutRole !== 'primary') fencedAt = Date.now();
        const p = primaryOf(r);
        if (nextAt === undefined && p.length === 1) [nextAt, next] = [Date.now(), p[0]];
        return fencedAt !== undefined && nextAt !== undefined;
      },
      { timeout: 180_000, interval: 200, message: 'the cut-off primary fenced and a new primary' },
    );
    expect(fencedAt as number, `fenced after ${(fencedAt as number) - t0} ms, new primary after ${(nextAt as number) - t0} ms`).toBeLessThanOrEqual(
      nextAt as number,
    );
    expect(await count(next as number)).toBe(101);
    await sql(next as number, "INSERT INTO demo.t (v) VALUES ('after-cut')");
    await podman(['network', 'connect', network, ids.get(cut) as string]);
    await waitFor(async () => (await role(cut)) === 'replica' && (await count(cut)) === 102, {
      timeout: 300_000,
      interval: 1000,
      message: `the cut-off node ${cut} to rejoin as a replica`,
    });
  }, 900_000);
});
