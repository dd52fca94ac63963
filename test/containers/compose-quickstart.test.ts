// The quickstart compose demo, up for real: `docker-compose up --wait` (the app healthy, then the
// probe's request answered), `docker-compose stop` (the whole stop sequence, exit 0), `down`.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ComposeProject } from './compose.js';
import { waitFor } from '../helpers/wait.js';
import { describeWithPodman, ensureImages, inspect } from './podman.js';

describeWithPodman('containers: compose demo examples/quickstart', () => {
  let project: ComposeProject;
  beforeAll(() => {
    ensureImages('quickstart');
    project = new ComposeProject('quickstart', ['app']);
  }, 1_500_000);
  afterAll(async () => {
    await project?.down();
  });

  it('up --wait: the app turns healthy and the probe gets its answer; stop runs the stop sequence, exit 0', async () => {
    // the app first (--wait counts the probe's exit, even with code 0, as a failure), then the probe,
    // which compose starts only once the app is healthy (depends_on: service_healthy)
    await project.run(['up', '-d', '--wait', '--wait-timeout', '180', 'app'], 300_000);
    const app = await project.id('app');
    expect(await inspect(app, '{{.State.Health.Status}}')).toBe('healthy');
    await project.run(['up', '-d', 'probe'], 300_000);
    const probe = await project.id('probe');
    await waitFor(async () => (await inspect(probe, '{{.State.Status}}')) === 'exited', { timeout: 60_000, interval: 200, message: 'the probe to finish' });
    expect(await inspect(probe, '{{.State.ExitCode}}')).toBe('0');
    expect(await project.logs('probe')).toMatch(/"ok":true/);

    await project.run(['stop', 'app'], 120_000);
    expect(await inspect(app, '{{.State.ExitCode}}')).toBe('0');
    const log = await project.logs('app');
    for (const step of ['draining: no new requests', 'SIGTERM: saved state', 'app stopped; state is kept']) expect(log).toContain(step);
  }, 600_000);
});
