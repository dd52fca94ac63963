// The route table and the reload plan, in isolation.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/top/config.js';
import { planReload } from '../../src/top/reload.js';
import { ControlError, ControlRoutes } from '../../src/subsystem/routes.js';

describe('ControlRoutes', () => {
  it('matches params, tells 404 from 405, and removes routes', async () => {
    const routes = new ControlRoutes();
    const remove = routes.add('POST', '/v1/jobs/:name/stop', (req) => req.params.name);
    const m = routes.match('POST', '/v1/jobs/web%2D1/stop');
    expect(m.params).toEqual({ name: 'web-1' });
    expect(() => routes.match('GET', '/v1/jobs/x/stop')).toThrow(expect.objectContaining({ status: 405 }));
    expect(() => routes.match('POST', '/v1/jobs/x')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => routes.add('POST', '/v1/jobs/:name/stop', () => 1)).toThrow(/already taken/);
    remove();
    expect(() => routes.match('POST', '/v1/jobs/x/stop')).toThrow(ControlError);
  });

  it('reserved routes say what is not configured until someone adds them', async () => {
    const routes = new ControlRoutes();
    routes.reserve('POST', '/v1/backup', 'backup', 'add a backup: section');
    expect(() => routes.match('POST', '/v1/backup')).toThrow('backup is not configured: add a backup: section');
    routes.add('POST', '/v1/backup', () => 'ok');
    expect(routes.match('POST', '/v1/backup').handler({} as never)).toBe('ok');
  });
});

describe('planReload', () => {
  const parse = (yaml: string) => parseConfig(yaml, 'x.yaml', {});
  it('ignores formatting and equivalent spellings, sees real changes', async () => {
    const before = await parse('jobs:\n  - {name: a, exec: "sleep 1", stopTimeout: 5s, restarts: unlimited}\n  - {name: b, exec: [sleep, "1"]}\n');
    const after = await parse(
      'jobs:\n  - name: a\n    restarts: unlimited\n    stopTimeout: 5\n    exec: "sleep 1"\n  - {name: b, exec: [sleep, "2"]}\n  - {name: c, exec: "true"}\ntelemetry: {port: 9100}\n',
    );
    expect(planReload(before, after)).toMatchObject({ unchanged: ['a'], removed: [], needsRestart: ['telemetry'] });
    const plan = planReload(before, after);
    expect(plan.changed.map((j) => j.name)).toEqual(['b']);
    expect(plan.added.map((j) => j.name)).toEqual(['c']);
    expect(planReload(after, before).removed).toEqual(['c']);
  });

  it('tells "unlimited" from "never" restarts', async () => {
    const a = await parse('jobs: [{name: a, exec: "true", restarts: unlimited}]');
    const b = await parse('jobs: [{name: a, exec: "true", restarts: never}]');
    expect(planReload(a, b).changed.map((j) => j.name)).toEqual(['a']);
  });
});
