// election.rank against the real Consul (the shared dev agent, a key of its own per test):
// three instances whose rank command prints a number from a file. The most advanced live
// candidate takes the key; a candidate whose rank command fails withdraws; a dead candidate's
// entry vanishes with its session; a higher-ranked candidate that cannot take the key holds the
// others back only for rank.maxWait. A role checker fails on two primaries throughout.
import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { killAll } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { Instance, onePrimary, removeTempDirs, RoleChecker, stepdown } from './harness.js';

describeWithServices('election: the most advanced candidate (election.rank)', ['consul'], () => {
  let instances: Instance[] = [];
  let checker: RoleChecker | undefined;
  let key = '';
  const consul = (): string => {
    const a = services().CONSUL_HTTP_ADDR;
    return a.startsWith('http') ? a : `http://${a}`;
  };

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') {
      for (const i of instances) {
        const lines = i.run?.logs.filter((l) => l.component === 'election' || /job on-/.test(l.msg)) ?? [];
        console.log(`--- ${i.spec.name}\n${lines.map((l) => `${String(l.time)} ${l.level} ${l.msg}`).join('\n')}`);
      }
    }
    checker?.stop();
    await killAll();
    await fetch(`${consul()}/v1/kv/${key}?recurse`, { method: 'DELETE' }).catch(() => undefined);
    removeTempDirs();
  });

  /** Three gated, ranked instances (gates closed): every one publishes its rank, none runs yet. */
  async function three(ranks: number[], rank: Record<string, unknown> = {}): Promise<Instance[]> {
    key = `rank-test/${randomBytes(4).toString('hex')}/primary`;
    instances = ['ra', 'rb', 'rc'].map((name, i) => new Instance({ name, consul: consul(), port: 8400 + i, gated: true, ranked: rank, election: { key } }));
    instances.forEach((inst, i) => {
      inst.setRank(ranks[i]);
      inst.setCandidate(false);
    });
    checker = new RoleChecker(instances);
    checker.start();
    for (const i of instances) i.start();
    await waitFor(async () => (await entries()).length === 3, { timeout: 20_000, message: 'three candidate entries' });
    return instances;
  }

  /** The live candidate entries in Consul: id → rank. */
  async function entries(): Promise<Array<{ id: string; rank: number }>> {
    const res = await fetch(`${consul()}/v1/kv/${key}/candidates/?recurse`);
    if (res.status === 404) return [];
    const list = (await res.json()) as Array<{ Session?: string; Value: string }>;
    return list.filter((e) => e.Session).map((e) => JSON.parse(Buffer.from(e.Value, 'base64').toString()) as { id: string; rank: number });
  }

  const byName = (name: string): Instance => instances.find((i) => i.spec.name === name) as Instance;
  const logged = (i: Instance, text: string): boolean => i.run?.logs.some((l) => typeof l.msg === 'string' && l.msg.includes(text)) ?? false;

  it('elects the highest rank, then on step-down the next highest; ties go to the smaller id; a failing rank command withdraws', async () => {
    await three([5, 9, 7]);
    for (const i of instances) i.setCandidate(true);
    const first = await onePrimary(instances, 15_000);
    expect(first.spec.name).toBe('rb');
    expect(logged(byName('ra'), 'rank: app-rb ranks higher (9 vs 5)')).toBe(true);
    // The primary withdraws its own entry.
    await waitFor(
      async () =>
        (await entries())
          .map((e) => e.id)
          .sort()
          .join() === 'app-ra,app-rc',
      { timeout: 10_000, message: 'the primary to withdraw' },
    );

    // ra has moved ahead; a step-down hands the key to it, not to rc.
    byName('ra').setRank(12);
    let t0 = Date.now();
    expect((await stepdown(first)).code).toBe(0);
    const second = await onePrimary(instances, 3_000, first);
    expect(second.spec.name).toBe('ra');
    console.info(`rank: step-down handed over to the highest rank in ${Date.now() - t0} ms`);

    // A tie between rb (back as a candidate) and rc: the smaller id, app-rb.
    byName('rb').setRank(15);
    byName('rc').setRank(15);
    await waitFor(async () => (await entries()).length === 2, { timeout: 20_000, message: 'rb to be a candidate again' });
    expect((await stepdown(second)).code).toBe(0);
    const third = await onePrimary(instances, 3_000, second);
    expect(third.spec.name).toBe('rb');

    // rc's rank command fails: it withdraws, and ra (rank 12, lower than rc's last 15) takes over
    // once it is a candidate again (after its own step-down's hold).
    byName('rc').setRank(undefined);
    byName('ra').setRank(12);
    await waitFor(async () => (await entries()).some((e) => e.id === 'app-ra'), { timeout: 20_000, message: 'ra to be a candidate again' });
    t0 = Date.now();
    expect((await stepdown(third)).code).toBe(0);
    const fourth = await onePrimary(instances, 5_000, third);
    expect(fourth.spec.name).toBe('ra');
    expect(logged(byName('rc'), 'the rank command failed; withdrawing')).toBe(true);
    console.info(`rank: a failing rank command withdrew; handed over in ${Date.now() - t0} ms`);
    expect(checker?.violations).toEqual([]);
  }, 60_000);

  it('a higher-ranked candidate that cannot take the key holds the others back only for maxWait; a dead one vanishes', async () => {
    await three([9, 5, 7], { maxWait: '3s' });
    byName('ra').setCandidate(true);
    const first = await onePrimary(instances, 15_000);
    expect(first.spec.name).toBe('ra');
    byName('rb').setCandidate(true);
    byName('rc').setCandidate(true);

    // rc ranks higher than rb but its gate fails: rb waits for it, then takes the key.
    byName('rc').setCandidate(false);
    expect((await stepdown(first)).code).toBe(0);
    const second = await onePrimary(instances, 10_000, first);
    expect(second.spec.name).toBe('rb');
    expect(logged(second, 'rank: app-rc ranks higher (7 vs 5)')).toBe(true);
    expect(logged(second, 'ranks no longer hold this instance back')).toBe(true);

    // ra (rank 9) dies: its entry vanishes with its session (the service check turns critical),
    // so after rb steps down rc, next in rank among the living, takes over at once.
    byName('rc').setCandidate(true);
    await waitFor(async () => (await entries()).length === 2, { timeout: 20_000, message: 'ra to be a candidate again' });
    await byName('ra').kill9();
    await waitFor(async () => !(await entries()).some((e) => e.id === 'app-ra'), { timeout: 20_000, message: "the dead candidate's entry to vanish" });
    expect((await stepdown(second)).code).toBe(0);
    const third = await onePrimary(instances, 3_000, second);
    expect(third.spec.name).toBe('rc');
    expect(checker?.violations).toEqual([]);
  }, 60_000);
});
