/**
 * Election fault runs, shared by test/election/faults.test.ts (one run per kind) and
 * bench/faults/election.ts (many): three Pilotfish instances (test/election/harness.ts), each
 * PID 1 in a host network namespace with its own Consul client agent, against a three-server
 * Consul cluster. One run: wait for a settled cluster, inject one fault on the primary's side,
 * measure, undo the fault, settle again.
 *
 * What counts as a primary is what matters for data. An instance's app is *writable* when its
 * last hook wrote `primary` and Pilotfish (PID 1, and with it the app) is alive; the hook line
 * carries the fencing token. Storage that checks fencing tokens refuses writes below the
 * highest token it has seen, so a writable app whose token is below the highest token any
 * writable app has shown is *fenced*. The invariant, checked every 100 ms across all
 * instances: never two writable, unfenced apps. Two writable apps at once (the older one
 * fenced) are counted separately as overlap: it must be zero for every fault except SIGSTOP,
 * where a frozen Pilotfish cannot demote its running app until it runs again
 * (docs/election.md, "The stall watchdog").
 */
import { ClientAgent, Instance, onePrimary, primaries } from './harness.js';
import { waitFor } from '../helpers/wait.js';

export const TTL_MS = 10_000;
export const LOCK_DELAY_MS = 1_000;

export const FAULT_KINDS = ['kill9', 'sigstop', 'sigstop-short', 'cut', 'server-restart', 'consul-restart', 'agent-restart'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults after which two writable apps at once (even a fenced one) are a bug. */
export const STRICT_KINDS: ReadonlySet<FaultKind> = new Set(['kill9', 'cut', 'server-restart', 'consul-restart', 'agent-restart']);

export interface FaultCluster {
  instances: Instance[];
  /** agents[i] is the Consul client agent in instances[i]'s namespace. */
  agents: ClientAgent[];
  /** http://IP:8500 of the servers c1..cN. */
  serverAddrs: string[];
  /** `scripts/services ARGS --dir <the cluster's dir>`, resolving to stdout. */
  services: (args: string[]) => Promise<string>;
}

/**
 * Starts three hosts (h1..h3) on a running cluster, each with a client agent and a Pilotfish
 * instance (not started yet); resolves once the agents have joined.
 */
export async function addHosts(services: FaultCluster['services'], serverAddrs: string[], election: Record<string, unknown> = {}): Promise<FaultCluster> {
  const servers = serverAddrs.map((a) => new URL(a).hostname);
  const instances: Instance[] = [];
  const agents: ClientAgent[] = [];
  for (const [i, name] of ['h1', 'h2', 'h3'].entries()) {
    const [netns = '', ip = ''] = (await services(['host', 'add', name])).trim().split(/\s+/);
    agents.push(new ClientAgent(name, netns, ip, servers));
    instances.push(new Instance({ name, consul: 'http://127.0.0.1:8500', port: 8400 + i, netns, election }));
  }
  await Promise.all(agents.map((a) => a.joined(serverAddrs[0] as string)));
  return { instances, agents, serverAddrs, services };
}

/** Samples every instance every 100 ms for the whole session; runs read their window. */
export class FaultSampler {
  /** Every sample: when, the writable instances, and which of them are unfenced. */
  readonly #samples: Array<{ at: number; writable: string[]; unfenced: string[] }> = [];
  readonly violations: Array<{ at: number; text: string }> = [];
  #maxToken = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly instances: Instance[]) {}

  start(): void {
    this.#timer = setInterval(() => this.#sample(), 100);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  get samples(): number {
    return this.#samples.length;
  }

  #sample(): void {
    const at = performance.now();
    const writable = this.instances.map((i) => ({ name: i.spec.name, ...i.role() })).filter((r) => r.role === 'primary');
    for (const w of writable) {
      const t = Number(w.token);
      if (Number.isFinite(t) && t > this.#maxToken) this.#maxToken = t;
    }
    // A primary without a readable token cannot be fenced: it counts as unfenced.
    const unfenced = writable.filter((w) => !(Number(w.token) < this.#maxToken)).map((w) => w.name);
    this.#samples.push({ at, writable: writable.map((w) => w.name), unfenced });
    if (this.#samples.length > 200_000) this.#samples.splice(0, 100_000);
    if (unfenced.length > 1) {
      this.violations.push({
        at,
        text: `${new Date().toISOString()}: ${writable.map((w) => `${w.name} (token ${w.token})`).join(', ')} are all primary and unfenced`,
      });
    }
  }

  /** Figures of the samples taken since `from` (performance.now()). */
  window(from: number): { samples: number; overlapMs: number; noPrimaryMs: number; violations: string[] } {
    const s = this.#samples.filter((x) => x.at >= from);
    return {
      samples: s.length,
      overlapMs: s.filter((x) => x.writable.length > 1).length * 100,
      noPrimaryMs: s.filter((x) => x.unfenced.length === 0).length * 100,
      violations: this.violations.filter((v) => v.at >= from).map((v) => v.text),
    };
  }
}

export interface FaultResult {
  kind: FaultKind;
  old: string;
  oldToken: number;
  /** From the fault until another instance's `elected` hook ran (absent: nobody else took over). */
  newPrimaryMs?: number;
  next?: string;
  /** From the fault until the old primary's app was no longer writable (absent: it never was). */
  stepDownMs?: number;
  /** SIGSTOP: how long Pilotfish was frozen, and from SIGCONT until its app was demoted. */
  frozenMs?: number;
  afterResumeMs?: number;
  /** From the fault until, once it was undone, exactly one primary was seen; and which. */
  primaryAgainMs: number;
  again: string;
  /** From when the fault was undone (the process resumed, the link or Consul back) until one primary. */
  recoveredMs: number;
  /** Sampled: two writable apps at once, the older fenced (ms), and no unfenced primary (ms). */
  overlapMs: number;
  noPrimaryMs: number;
  violations: string[];
  samples: number;
}

export interface FaultOptions {
  /** sigstop, consul-restart, agent-restart: keep the fault this much longer after the effect waited for. */
  extraMs?: number;
  /** server-restart: how long the leader stays down. */
  outageMs?: number;
  /** sigstop-short: how long to freeze (below the watchdog's threshold: lease 6 s − margin 2 s). */
  shortFreezeMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Restart whatever is down and wait until one primary, known to all, with every check passing. */
export async function settle(c: FaultCluster, timeout = 90_000): Promise<Instance> {
  for (const i of c.instances) if (i.role().role === 'down') i.start();
  const deadline = Date.now() + timeout;
  const left = (): number => Math.max(1_000, deadline - Date.now());
  const primary = await onePrimary(c.instances, left());
  await waitFor(() => c.instances.every((i) => ['primary', 'replica'].includes(i.role().role)), {
    timeout: left(),
    message: 'every instance to report a role',
  });
  const addr = primary.role().primary;
  await waitFor(
    async () => {
      const seen = await Promise.all(c.instances.map((i) => i.electionStatus()));
      return seen.every((s) => s?.primary === addr);
    },
    { timeout: left(), interval: 200, message: `every instance to know the primary ${primary.spec.name} (${addr})` },
  );
  await waitFor(
    async () => {
      const res = await fetch(`${c.serverAddrs[0]}/v1/health/checks/app`, { signal: AbortSignal.timeout(2_000) });
      const checks = (await res.json()) as Array<{ Status: string; ServiceID: string }>;
      return checks.length === c.instances.length && checks.every((x) => x.Status === 'passing');
    },
    { timeout: left(), interval: 200, message: "every instance's service check to pass in Consul" },
  );
  const still = primaries(c.instances);
  if (still.length !== 1 || still[0] !== primary) return settle(c, left());
  return primary;
}

/** The current raft leader's name (c1..cN). */
async function leader(c: FaultCluster): Promise<string> {
  return waitFor(
    async () => {
      for (const addr of c.serverAddrs) {
        const res = await fetch(`${addr}/v1/status/leader`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        const ip = ((await res?.json().catch(() => '')) as string).split(':')[0];
        const index = c.serverAddrs.findIndex((a) => new URL(a).hostname === ip);
        if (index >= 0) return `c${index + 1}`;
      }
      return undefined;
    },
    { timeout: 30_000, interval: 200, message: 'a raft leader' },
  );
}

/** One fault run, from a settled cluster to a settled cluster. */
export async function runFault(c: FaultCluster, sampler: FaultSampler, kind: FaultKind, opts: FaultOptions = {}): Promise<FaultResult> {
  const old = await settle(c);
  const oldToken = Number(old.role().token);
  const others = c.instances.filter((i) => i !== old);
  const from = performance.now();
  let t0 = from;
  let newPrimaryAt: number | undefined;
  let next: string | undefined;
  let steppedAt: number | undefined;
  let watching = true;
  // Fine-grained timing (20 ms) beside the 100 ms sampler.
  const watch = (async () => {
    while (watching) {
      const now = performance.now();
      if (steppedAt === undefined && !old.isPrimary()) steppedAt = now;
      if (newPrimaryAt === undefined) {
        const n = others.find((i) => i.isPrimary() && Number(i.role().token) > oldToken);
        if (n) {
          newPrimaryAt = now;
          next = n.spec.name;
        }
      }
      await sleep(20);
    }
  })();
  const since = (t: number | undefined): number | undefined => (t === undefined ? undefined : Math.round(t - t0));
  const newPrimary = (timeout: number): Promise<unknown> =>
    waitFor(() => newPrimaryAt !== undefined, { timeout, interval: 20, message: `a new primary after ${kind} of ${old.spec.name}` });
  const stepped = (timeout: number): Promise<unknown> =>
    waitFor(() => steppedAt !== undefined, { timeout, interval: 20, message: `${old.spec.name} to step down after ${kind}` });
  let frozenMs: number | undefined;
  let resumedAt: number | undefined;
  const index = c.instances.indexOf(old);
  const host = old.spec.name;
  try {
    t0 = performance.now();
    switch (kind) {
      case 'kill9':
        await old.kill9();
        await newPrimary(2 * TTL_MS + LOCK_DELAY_MS + 10_000);
        break;
      case 'sigstop':
      case 'sigstop-short': {
        const pid = await old.run!.pid();
        t0 = performance.now();
        process.kill(pid, 'SIGSTOP');
        try {
          if (kind === 'sigstop') {
            await newPrimary(2 * TTL_MS + LOCK_DELAY_MS + 10_000);
            if (opts.extraMs) await sleep(opts.extraMs);
          } else {
            await sleep(opts.shortFreezeMs ?? 3_000);
          }
        } finally {
          process.kill(pid, 'SIGCONT');
          resumedAt = performance.now();
          frozenMs = Math.round(resumedAt - t0);
        }
        if (kind === 'sigstop') await stepped(10_000);
        break;
      }
      case 'cut':
        await c.services(['netns-cut', host]);
        try {
          await stepped(TTL_MS);
          await newPrimary(2 * TTL_MS + LOCK_DELAY_MS + 10_000);
        } finally {
          await c.services(['netns-heal', host]);
        }
        break;
      case 'server-restart': {
        const name = await leader(c);
        t0 = performance.now();
        await c.services(['stop', name]);
        if (opts.outageMs) await sleep(opts.outageMs);
        await c.services(['start', name]);
        break;
      }
      case 'consul-restart':
        // Every server down until the primary, unable to renew, has demoted.
        await c.services(['stop', 'consul']);
        try {
          await stepped(TTL_MS);
          if (opts.extraMs) await sleep(opts.extraMs);
        } finally {
          await c.services(['start', 'consul']);
        }
        break;
      case 'agent-restart': {
        // The primary's local agent crashes and stays down until the primary has demoted.
        const agent = c.agents[index] as ClientAgent;
        await agent.stop('SIGKILL');
        try {
          await stepped(TTL_MS);
          if (opts.extraMs) await sleep(opts.extraMs);
        } finally {
          agent.restart();
        }
        await agent.joined(c.serverAddrs[0] as string);
        break;
      }
    }
    const undoneAt = performance.now();
    const again = await onePrimary(c.instances, 2 * TTL_MS + LOCK_DELAY_MS + 30_000);
    const primaryAgainMs = Math.round(performance.now() - t0);
    const recoveredMs = Math.round(performance.now() - undoneAt);
    await settle(c);
    const w = sampler.window(from);
    return {
      kind,
      old: old.spec.name,
      oldToken,
      ...(newPrimaryAt !== undefined ? { newPrimaryMs: since(newPrimaryAt), next } : {}),
      ...(steppedAt !== undefined ? { stepDownMs: since(steppedAt) } : {}),
      again: again.spec.name,
      ...(frozenMs !== undefined ? { frozenMs } : {}),
      ...(resumedAt !== undefined && steppedAt !== undefined && steppedAt >= resumedAt ? { afterResumeMs: Math.round(steppedAt - resumedAt) } : {}),
      primaryAgainMs,
      recoveredMs,
      overlapMs: w.overlapMs,
      noPrimaryMs: w.noPrimaryMs,
      violations: w.violations,
      samples: w.samples,
    };
  } finally {
    watching = false;
    await watch;
  }
}
