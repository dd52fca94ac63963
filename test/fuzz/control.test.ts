// Control-socket and putenv fuzzing in CI (issue 18, "What to build" 5): random requests to a
// real Pilotfish; every answer below 500, Pilotfish alive, and jobs still start afterwards.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/pilotfish.js';
import { waitFor } from '../helpers/wait.js';
import { startControlled } from '../control/harness.js';
import { acceptable, makeRequest, send } from './requests.js';

afterEach(killAll);

const SEED = Number(process.env.FUZZ_SEED ?? 1);
const REQUESTS = 400;

describe('control socket fuzzing', () => {
  it(`${REQUESTS} random requests and putenv bodies: no 5xx, no crash, jobs still start`, async () => {
    const pf = await startControlled({
      jobs: [
        { name: 'app', exec: ['sleep', '1000'], restarts: 'unlimited' },
        { name: 'tick', exec: ['true'], when: { interval: '200ms' } },
      ],
    });
    const routes = (await pf.api<{ endpoints: string[] }>('GET', '/v1')).body.endpoints ?? [];
    expect(routes.length).toBeGreaterThan(5);
    const bad: string[] = [];
    const counts: Record<string, number> = {};
    for (let i = 0; i < REQUESTS; i += 8) {
      const batch = Array.from({ length: 8 }, (_, k) => makeRequest([...routes, 'POST /v1/environ', 'POST /v1/environ'], SEED * 104_729 + i + k));
      const outcomes = await Promise.all(batch.map((r) => send(pf.socket, r)));
      outcomes.forEach((o, k) => {
        counts[o] = (counts[o] ?? 0) + 1;
        const r = batch[k];
        if (r && !acceptable(o, r)) bad.push(`${r.method} ${r.path.slice(0, 80)} (${r.body?.length ?? 0} bytes): ${o}`);
      });
    }
    console.log(`control fuzz seed ${SEED}: ${JSON.stringify(counts)}`);
    expect(bad).toEqual([]);
    expect(pf.logs.filter((l) => /internal error/.test(l.msg))).toEqual([]);
    expect((await pf.api('GET', '/v1/ping')).status).toBe(200);
    // Whatever putenv was given, processes still start.
    const runs = (await pf.status()).jobTotals.tick?.runs ?? 0;
    await waitFor(async () => ((await pf.status()).jobTotals.tick?.runs ?? 0) >= runs + 2, { message: 'tick still starting' });
    expect(pf.logs.filter((l) => l.job === 'tick' && /cannot run/.test(l.msg))).toEqual([]);
  }, 180_000);
});
