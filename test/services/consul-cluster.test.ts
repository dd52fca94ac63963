// A three-server Consul cluster in network namespaces: a leader is elected,
// and cutting one server's link then healing it keeps the cluster whole.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices, startConsulCluster, type ConsulCluster } from '../helpers/services.js';

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** The leader as seen by `addr`, or '' when it has none or does not answer. */
async function leaderSeenBy(addr: string): Promise<string> {
  return getJson<string>(`${addr}/v1/status/leader`).catch(() => '');
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describeWithServices('consul cluster in network namespaces', ['consul-cluster'], () => {
  let cluster: ConsulCluster;
  beforeAll(async () => {
    cluster = await startConsulCluster(3);
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('elects one leader that every server agrees on', async () => {
    expect(cluster.addrs).toHaveLength(3);
    const leaders = await Promise.all(cluster.addrs.map(leaderSeenBy));
    expect(leaders[0]).toMatch(/^10\.77\.\d+\.1[1-3]:8300$/);
    expect(new Set(leaders).size).toBe(1);
    const peers = await getJson<string[]>(`${cluster.addrs[0]}/v1/status/peers`);
    expect(peers).toHaveLength(3);
  });

  it('keeps a leader on the majority side when the leader is cut off, and reunites on heal', async () => {
    const leader = await leaderSeenBy(cluster.addrs[0]!);
    const index = cluster.addrs.findIndex((addr) => addr.includes(`//${leader.split(':')[0]}:`));
    expect(index).toBeGreaterThanOrEqual(0);
    const cut = `c${index + 1}`;
    const others = cluster.addrs.filter((_, i) => i !== index);

    await cluster.cut(cut);
    try {
      // The cut server is unreachable from the root namespace...
      expect(await leaderSeenBy(cluster.addrs[index]!)).toBe('');
      // ...and the other two elect a new leader among themselves.
      await until(
        'a new leader on the majority side',
        async () => {
          const seen = await Promise.all(others.map(leaderSeenBy));
          return seen[0] !== '' && seen[0] !== leader && seen[0] === seen[1];
        },
        30_000,
      );
    } finally {
      await cluster.heal(cut);
    }

    // Autopilot may have removed the cut server from the raft peers; on heal
    // the leader adds it back, and every server agrees on leader and peers.
    await until(
      'all three servers to agree on one leader and three peers again',
      async () => {
        const seen = await Promise.all(cluster.addrs.map(leaderSeenBy));
        if (seen[0] === '' || new Set(seen).size !== 1) return false;
        const peers = await Promise.all(cluster.addrs.map((addr) => getJson<string[]>(`${addr}/v1/status/peers`).catch(() => [])));
        return peers.every((list) => list.length === 3);
      },
      60_000,
    );
  }, 120_000);

  it('attaches a host namespace that reaches the servers', async () => {
    const host = await cluster.addHost('app1');
    try {
      expect(host.netns).toMatch(/^pf\d-app1$/);
      expect(host.ip).toMatch(/^10\.77\.\d+\.100$/);
      // A process in the namespace talks to the servers over the bridge.
      const { stdout } = await promisify(execFile)('ip', [
        'netns',
        'exec',
        host.netns,
        'curl',
        '-fsS',
        '--max-time',
        '3',
        `${cluster.addrs[1]}/v1/status/leader`,
      ]);
      expect(JSON.parse(stdout)).toMatch(/:8300$/);
    } finally {
      await cluster.delHost('app1');
    }
  });
});
