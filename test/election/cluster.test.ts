// Election with three Pilotfish instances, each PID 1 in its own host network namespace with
// a Consul client agent there, against a three-server Consul cluster. A checker samples every
// instance's role (written by its elected/demoted hooks) every 100 ms throughout and fails if
// two are ever primary at once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll } from '../helpers/pilotfish.js';
import { describeWithServices, startConsulCluster, type ConsulCluster } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { ClientAgent, Instance, onePrimary, primaries, removeTempDirs, RoleChecker } from './harness.js';

const TTL = 10_000;
const LOCK_DELAY = 1_000;

describeWithServices('election across a Consul cluster in network namespaces', ['consul-cluster'], () => {
  let cluster: ConsulCluster;
  const agents: ClientAgent[] = [];
  const instances: Instance[] = [];
  let checker: RoleChecker;

  beforeAll(async () => {
    cluster = await startConsulCluster(3);
    const servers = cluster.addrs.map((a) => new URL(a).hostname);
    for (const [i, name] of ['h1', 'h2', 'h3'].entries()) {
      const host = await cluster.addHost(name);
      agents.push(new ClientAgent(name, host.netns, host.ip, servers));
      instances.push(new Instance({ name, consul: 'http://127.0.0.1:8500', port: 8200 + i, netns: host.netns }));
    }
    await Promise.all(agents.map((a) => a.joined(cluster.addrs[0] as string)));
    checker = new RoleChecker(instances);
    checker.start();
  }, 180_000);

  afterAll(async () => {
    checker?.stop();
    await killAll();
    await Promise.all(agents.map((a) => a.stop()));
    await cluster?.stop();
    removeTempDirs();
  }, 90_000);

  /** Restart whichever instances are down, and wait until all three run with one primary. */
  async function allUp(): Promise<Instance> {
    for (const i of instances) if (i.role().role === 'down') i.start();
    const primary = await onePrimary(instances, 30_000);
    await waitFor(() => instances.every((i) => i.role().role === 'primary' || i.role().role === 'replica'), {
      timeout: 30_000,
      message: 'every instance to report a role',
    });
    return primary;
  }

  it('elects exactly one primary after start', async () => {
    await allUp();
    expect(primaries(instances)).toHaveLength(1);
    expect(checker.violations).toEqual([]);
  }, 60_000);

  it('hands over within 3 s when the primary gets SIGTERM', async () => {
    const old = await allUp();
    const t0 = Date.now();
    await old.run?.signal('SIGTERM');
    const next = await onePrimary(instances, 3_000, old);
    const took = Date.now() - t0;
    console.info(`SIGTERM: ${next.spec.name} primary after ${took} ms`);
    expect(took).toBeLessThan(3_000);
    await old.run?.exited;
    expect(next).not.toBe(old);
    expect(checker.violations).toEqual([]);
  }, 60_000);

  it('elects a new primary within 2×TTL + lock-delay + 3 s after kill -9 of the primary', async () => {
    const old = await allUp();
    const t0 = Date.now();
    await old.kill9();
    const next = await onePrimary(instances, 2 * TTL + LOCK_DELAY + 3_000, old);
    console.info(`kill -9: ${next.spec.name} primary after ${Date.now() - t0} ms`);
    expect(Date.now() - t0).toBeLessThan(2 * TTL + LOCK_DELAY + 3_000);
    expect(next).not.toBe(old);
    expect(checker.violations).toEqual([]);
  }, 60_000);

  it('demotes a primary cut off from the Consul servers within the TTL, before anyone else takes over', async () => {
    const old = await allUp();
    const token = Number(old.role().token);
    await cluster.cut(old.spec.name);
    const t0 = Date.now();
    try {
      await waitFor(() => old.role().role === 'replica', { timeout: TTL, interval: 50, message: `${old.spec.name} to demote` });
      const demoted = Date.now() - t0;
      console.info(`cut: ${old.spec.name} demoted after ${demoted} ms`);
      expect(demoted).toBeLessThan(TTL);
      // The others take over once Consul lets the session expire (up to 2×TTL) and the lock-delay.
      const next = await onePrimary(instances, 2 * TTL + LOCK_DELAY + 3_000, old);
      console.info(`cut: ${next.spec.name} primary after ${Date.now() - t0} ms`);
      expect(Number(next.role().token)).toBeGreaterThan(token);
    } finally {
      await cluster.heal(old.spec.name);
    }
    // Back on the network, the old primary stays a replica.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(old.role().role).toBe('replica');
    expect(primaries(instances)).toHaveLength(1);
    expect(checker.violations).toEqual([]);
    expect(checker.samples).toBeGreaterThan(100);
  }, 90_000);
});
