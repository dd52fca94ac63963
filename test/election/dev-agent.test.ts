// Election against a private Consul dev agent (three Pilotfish instances on loopback): one
// primary with tags and PILOTFISH_* values, `pilotfish stepdown`, Consul restarted with its
// state lost, and the stall watchdog. Its own agent, because the test restarts it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { killAll } from '../helpers/pilotfish.js';
import { describeWithServices, servicesCommand, startService, stopService } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { Instance, onePrimary, primaries, removeTempDirs, RoleChecker, stepdown } from './harness.js';

describeWithServices('election on a Consul dev agent', ['consul'], () => {
  const dir = mkdtempSync(join(tmpdir(), 'pf-el-dev-'));
  let consul = '';
  let instances: Instance[] = [];
  let checker: RoleChecker | undefined;

  beforeAll(async () => {
    const out = await servicesCommand(['up', '--only', 'consul'], dir);
    consul = /CONSUL_HTTP_ADDR=(\S+)/.exec(out)?.[1] ?? '';
    if (!consul) throw new Error(`no CONSUL_HTTP_ADDR from scripts/services up:\n${out}`);
  }, 60_000);
  afterAll(async () => {
    await servicesCommand(['down'], dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    removeTempDirs();
  }, 60_000);
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') {
      for (const i of instances) {
        const lines = i.run?.logs.filter((l) => l.component === 'election' || /job on-|stalled/.test(l.msg)) ?? [];
        console.log(`--- ${i.spec.name}\n${lines.map((l) => `${String(l.time)} ${l.level} ${l.msg}`).join('\n')}`);
      }
    }
    checker?.stop();
    await killAll();
    await fetch(`${consul}/v1/kv/service/app?recurse`, { method: 'DELETE' }).catch(() => undefined);
  });

  const three = (): Instance[] => ['a', 'b', 'c'].map((name, i) => new Instance({ name, consul, port: 8100 + i }));

  it('elects one primary, tags it, hands its values to children, and steps down on request', async () => {
    instances = three();
    checker = new RoleChecker(instances);
    checker.start();
    for (const i of instances) i.start();
    const first = await onePrimary(instances, 20_000);
    const { token, primary } = first.role();
    expect(Number(token)).toBeGreaterThan(0);
    expect(primary).toMatch(/:810[0-2]$/);
    // Replicas' hooks saw PILOTFISH_ROLE=replica (the initial demoted at startup).
    await waitFor(() => instances.filter((i) => i !== first).every((i) => i.role().role === 'replica'), { timeout: 10_000 });
    const tags = async (): Promise<Record<string, string[]>> => {
      const list = (await (await fetch(`${consul}/v1/catalog/service/app`)).json()) as Array<{ ServiceID: string; ServiceTags: string[] }>;
      return Object.fromEntries(list.map((s) => [s.ServiceID, s.ServiceTags]));
    };
    await waitFor(async () => (await tags())[`app-${first.spec.name}`]?.includes('primary'), { timeout: 5_000, message: 'the primary tag' });
    expect(Object.values(await tags()).filter((t) => t.includes('replica'))).toHaveLength(2);

    // Only the primary may step down.
    const replica = instances.find((i) => i !== first) as Instance;
    expect((await stepdown(replica)).code).not.toBe(0);
    const t0 = Date.now();
    const res = await stepdown(first);
    expect(res.code, res.output).toBe(0);
    const next = await onePrimary(instances, 3_000, first);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(Number(next.role().token)).toBeGreaterThan(Number(token));
    expect(first.role().role).toBe('replica');
    expect(checker.violations).toEqual([]);
  }, 60_000);

  it('elects exactly one primary again after Consul restarts with its state lost, and the same one', async () => {
    instances = three();
    checker = new RoleChecker(instances);
    checker.start();
    for (const i of instances) i.start();
    const before = await onePrimary(instances, 20_000);
    // Every instance runs and has seen the primary (a slow starter could not know whom to defer to).
    await waitFor(async () => (await Promise.all(instances.map((i) => i.electionStatus()))).every((s) => s?.primary), {
      timeout: 20_000,
      message: 'every instance to know the primary',
    });
    await stopService('consul', dir);
    // Without Consul nobody can know it holds the lock: the primary demotes.
    await waitFor(() => primaries(instances).length === 0, { timeout: 10_000, message: 'the primary to demote while Consul is down' });
    await startService('consul', dir);
    const after = await onePrimary(instances, 30_000);
    expect(after).toBe(before);
    // It stays the only one (the others deferred to it, then saw it hold the key).
    await new Promise((r) => setTimeout(r, 1_500));
    expect(primaries(instances)).toEqual([before]);
    expect(checker.violations).toEqual([]);
    // It made a new session: the old one died with Consul's state.
    expect(before.run?.logs.filter((l) => /created a Consul session/.test(l.msg)).length).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it('gives up the lock when the app turns unhealthy, and runs only past the candidate gate', async () => {
    const [a, b] = ['a', 'b'].map((name, i) => new Instance({ name, consul, port: 8120 + i, gated: true })) as [Instance, Instance];
    instances = [a, b];
    checker = new RoleChecker(instances);
    checker.start();
    b.setCandidate(false); // b may not run for primary yet
    a.start();
    b.start();
    await onePrimary(instances, 20_000);
    expect(a.isPrimary()).toBe(true);
    a.setHealthy(false);
    await waitFor(() => a.role().role === 'replica', { timeout: 5_000, message: 'the unhealthy primary to demote' });
    await b.run?.waitForLog(/candidate gate failed/, 10_000);
    expect(primaries(instances)).toEqual([]);
    b.setCandidate(true);
    await onePrimary(instances, 5_000, a);
    a.setHealthy(true);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(primaries(instances)).toEqual([b]); // healthy again, but b holds the lock
    expect(checker.violations).toEqual([]);
  }, 60_000);

  it('demotes after an event-loop stall longer than the lease allows', async () => {
    const solo = new Instance({ name: 'solo', consul, port: 8110, checkTtl: '20s', election: { watchdog: { margin: '2s' } } });
    instances = [solo];
    const run = solo.start();
    await onePrimary(instances, 20_000);
    // Freeze Pilotfish (not its app) for longer than the watchdog threshold: lease = min(ttl 10s,
    // check 20s + lockDelay 1s) = 10s, minus the 2s margin = 8s.
    const pid = await run.pid();
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 8_600));
    process.kill(pid, 'SIGCONT');
    const line = await run.waitForLog(/event loop stalled for \d+ms/, 5_000);
    expect(line.stalledMs as number).toBeGreaterThan(8_000);
    await run.waitForLog((l) => l.msg === 'demoting: ' + String(l.reason) && /stalled/.test(String(l.reason)), 5_000);
  }, 60_000);

  it('kills the app after a stall when the watchdog action is kill', async () => {
    const solo = new Instance({ name: 'kill', consul, port: 8111, checkTtl: '20s', election: { watchdog: { margin: '7s', action: 'kill' } } });
    instances = [solo];
    const run = solo.start();
    await onePrimary(instances, 20_000);
    // Threshold: lease 10s − margin 7s = 3s. A large margin must not make the renewal fence fire
    // between two renewals (due every 5s): the primary stays primary until the stall.
    await new Promise((r) => setTimeout(r, 5_500));
    expect(run.logs.filter((l) => /^demoting/.test(l.msg))).toEqual([]);
    const pid = await run.pid();
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 3_600));
    process.kill(pid, 'SIGCONT');
    await run.waitForLog(/event loop stalled for \d+ms .*: kill/, 5_000);
    // The app (the main job) was killed, so Pilotfish stops too.
    await run.waitForLog(/main job app was killed by SIGKILL/, 10_000);
  }, 60_000);
});
