// The quickstart image as users run it: `podman run`, Pilotfish as PID 1 (as user node), its
// HEALTHCHECK, `podman stop`, the main job's exit code, orphans, and a killed app. Other
// configs run in the same image (mounted at /etc/pilotfish.yaml) for the exit-code and
// orphan cases.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';
import { checkHealth, describeWithPodman, ensureImages, inspect, logs, pidOf, podman, Started, uniqueName, waitHealth, zombies } from './podman.js';
import { stopBudgetOfFile } from './stop-budget.js';

const GRACE_S = Math.ceil(stopBudgetOfFile(join(ROOT, 'examples/quickstart/pilotfish.yaml')) / 1000);

describeWithPodman('containers: the quickstart image', () => {
  let image = '';
  const started = new Started();
  const dir = mkdtempSync(join(tmpdir(), 'pf-containers-'));
  /** A config file for `-v FILE:/etc/pilotfish.yaml:ro`. */
  const config = (name: string, text: string): string => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, text, { mode: 0o644 });
    return file;
  };
  const run = (args: string[] = [], cfg?: string) =>
    started.run(['--name', uniqueName('pf-qs'), ...(cfg ? ['-v', `${cfg}:/etc/pilotfish.yaml:ro`] : []), ...args, image]);
  const exited = (id: string, timeout = 60_000) =>
    waitFor(async () => ((await inspect(id, '{{.State.Status}}')) === 'exited' ? true : undefined), {
      timeout,
      interval: 200,
      message: `container ${id.slice(0, 12)} to exit`,
    });

  beforeAll(() => {
    image = ensureImages('quickstart').quickstart as string;
  }, 1_500_000);
  afterAll(async () => {
    await started.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs Pilotfish as PID 1, as the non-root user node; HEALTHCHECK turns healthy', async () => {
    const id = await run();
    const cmdline = await podman(['exec', id, 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline']);
    // With the launcher's V8 flag (Dockerfile): Node 24's young generation otherwise grows far
    // past Node 22's, +145 MiB of peak RSS in a 100,000-file backup (bench/backup/README.md).
    expect(cmdline).toBe('node --max-semi-space-size=16 /opt/pilotfish/dist/cli/main.js run');
    expect(await podman(['exec', id, 'sh', '-c', 'stat -c %u /proc/1 && id -un'])).toBe('1000\nnode');
    const health = await waitHealth(id, 'healthy');
    expect(health.Log?.at(-1)?.Output.trim()).toBe('healthy');
  }, 180_000);

  // The build filled the code cache under the launcher's flags (Dockerfile): a cache made under
  // other flags would be refused and, the directory not being the user's, never rewritten.
  it("the image's code cache is the one its launcher takes: a run leaves it as it is", async () => {
    const script = [
      'cp -a /opt/pilotfish/dist/.compile-cache /tmp/cc',
      'printf "logging: {level: warn}\\njobs:\\n  - {name: app, main: true, exec: [/bin/true]}\\n" > /tmp/p.yaml',
      'PILOTFISH_COMPILE_CACHE=/tmp/cc pilotfish run --config /tmp/p.yaml',
      'cd /tmp/cc && ls *.code && md5sum *.code | cut -c1-32 && cd /opt/pilotfish/dist/.compile-cache && md5sum *.code | cut -c1-32',
    ].join(' && ');
    const out = (await podman(['run', '--rm', '--user', '0', '--entrypoint', 'sh', image, '-c', script], 60_000)).split('\n');
    expect(out, 'one cache file, the same after the run').toHaveLength(3);
    expect(out[0]).toMatch(/^pilotfish-[\w.-]+\.code$/);
    expect(out[1]).toBe(out[2]);
  }, 120_000);

  it(`podman stop runs preStop, stops the app, runs postStop and exits 0 within the grace (${GRACE_S} s)`, async () => {
    const id = await run();
    await waitHealth(id, 'healthy');
    const t0 = Date.now();
    await podman(['stop', '-t', String(GRACE_S), id], (GRACE_S + 30) * 1000);
    const took = Date.now() - t0;
    expect(await inspect(id, '{{.State.ExitCode}}')).toBe('0');
    expect(took).toBeLessThan(GRACE_S * 1000);
    const out = await logs(id);
    const order = ['received SIGTERM', 'draining: no new requests', 'SIGTERM: saved state', 'app stopped; state is kept', '"exitCode":0'];
    const at = order.map((needle) => out.indexOf(needle));
    expect(
      at.every((i) => i >= 0),
      `every step in the log:\n${out}`,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  }, 180_000);

  it("a stop that arrives during start is a clean stop: no fatal error, the app's own status", async () => {
    const id = await run();
    // Once Pilotfish listens for signals (its first log line): before that, PID 1 has no
    // handler and the kernel drops the SIGTERM (docs/containers.md).
    await waitFor(async () => (await logs(id)).includes('pilotfish starting'), { timeout: 60_000, interval: 50, message: 'Pilotfish to start' });
    await podman(['stop', '-t', String(GRACE_S), id], (GRACE_S + 30) * 1000);
    // 0 when the app's SIGTERM handler was in place, 143 when the signal came before it (the
    // app's own death by SIGTERM, passed on as tini does); never Pilotfish's own failure (1, 70).
    expect(['0', '143']).toContain(await inspect(id, '{{.State.ExitCode}}'));
    const out = await logs(id);
    expect(out).not.toMatch(/FATAL|"level":"fatal"/i);
    expect(out).toMatch(/"msg":"stopped"/);
  }, 120_000);

  it("the main job's exit code becomes the container's", async () => {
    const cfg = config('exit3', 'jobs:\n  - name: app\n    main: true\n    exec: [sh, -c, "echo working; exit 3"]\n');
    const id = await run([], cfg);
    await exited(id);
    expect(await inspect(id, '{{.State.ExitCode}}')).toBe('3');
    expect(await logs(id)).toContain('working');
  }, 120_000);

  it('reaps orphans: processes reparented to PID 1 never stay zombies', async () => {
    // Each ( ... & ) leaves a sleep whose parent exits at once: it is reparented to PID 1.
    const cfg = config(
      'orphans',
      'jobs:\n  - name: app\n    main: true\n    exec: [sh, -c, "for i in $(seq 30); do (sleep 0.3 &); done; echo spawned; exec sleep 600"]\n',
    );
    const id = await run([], cfg);
    await waitFor(async () => (await logs(id)).includes('spawned'), { timeout: 60_000, interval: 200, message: 'the orphans' });
    // Once their 0.3 s are up, every orphan must be gone, not a zombie of PID 1.
    const left = await waitFor(
      async () => {
        const out = await podman(['exec', id, 'sh', '-c', 'grep -l "^sleep" /proc/[0-9]*/comm 2>/dev/null | wc -l']);
        return Number(out) === 1 ? 'only the main job' : undefined;
      },
      { timeout: 30_000, interval: 200, message: 'the orphans to be reaped' },
    );
    expect(left).toBe('only the main job');
    expect(await zombies(id)).toEqual([]);
  }, 120_000);

  it('SIGKILL of the app process follows the restart policy: restarted, healthy again', async () => {
    const id = await run();
    await waitHealth(id, 'healthy');
    const before = await pidOf(id, 'examples/quickstart/app.mjs');
    expect(before).toBeGreaterThan(1);
    await podman(['exec', id, 'sh', '-c', `kill -KILL ${before}`]);
    const after = await waitFor(
      async () => {
        const p = await pidOf(id, 'examples/quickstart/app.mjs');
        return p && p !== before ? p : undefined;
      },
      { timeout: 60_000, interval: 250, message: 'the app to be restarted' },
    );
    expect(after).not.toBe(before);
    expect(await inspect(id, '{{.State.Running}}')).toBe('true');
    await waitHealth(id, 'healthy');
    expect(await logs(id)).toMatch(/restart/i);
  }, 180_000);

  it("past the restart policy (max 3), the container ends with the app's failure", async () => {
    const id = await run();
    await waitHealth(id, 'healthy');
    let last: number | undefined;
    for (let kill = 0; kill < 4; kill++) {
      const pid = await waitFor(
        async () => {
          const p = await pidOf(id, 'examples/quickstart/app.mjs').catch(() => undefined);
          return p && p !== last ? p : undefined;
        },
        { timeout: 60_000, interval: 250, message: `app run ${kill + 1}` },
      );
      last = pid;
      await podman(['exec', id, 'sh', '-c', `kill -KILL ${pid}`]).catch(() => {});
    }
    await exited(id);
    expect(await inspect(id, '{{.State.ExitCode}}')).not.toBe('0');
  }, 300_000);

  it('HEALTHCHECK turns unhealthy when the app hangs, with the reason in podman inspect, logged once', async () => {
    const id = await run();
    await waitHealth(id, 'healthy');
    const app = await pidOf(id, 'examples/quickstart/app.mjs');
    const before = (await logs(id)).length;
    await podman(['exec', id, 'sh', '-c', `kill -STOP ${app}`]);
    const health = await waitHealth(id, 'unhealthy', 180_000);
    const reasons = (health.Log ?? []).filter((l) => l.ExitCode !== 0).map((l) => l.Output);
    expect(reasons.at(-1)).toMatch(/unhealthy: .*app/);
    // Logged once for this hang (what came before the SIGSTOP is not this test's).
    const out = (await logs(id)).slice(before);
    expect(out.match(/job app is unhealthy/g)?.length, out).toBe(1);
    await podman(['exec', id, 'sh', '-c', `kill -CONT ${app}`]);
    await checkHealth(id);
  }, 300_000);
});
