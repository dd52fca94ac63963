// The token's life against the real Vault: renewed before expiry (a role with a 4 s TTL), a new
// login when a renewal would no longer extend it (10 s max TTL), and a new login after the token
// is revoked (revoke-accessor with the root token); secrets keep flowing throughout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killAll, startPilotfish, type LogLine } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { accessorsOf, createAppRole, kvPut, revokeAccessor, setPolicy, unique } from './http.js';

afterEach(killAll);

const after = (logs: LogLine[], from: number, msg: string | RegExp): LogLine | undefined =>
  logs.slice(from).find((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)));

describeWithServices('vault: token renewal and re-authentication', ['vault'], () => {
  it('renews at 2/3 of the TTL, logs in again near the max TTL and after a revocation', async () => {
    const id = unique('pf-renew');
    await setPolicy(id, [`secret/data/${id}/*`]);
    const role = await createAppRole(id, [id], '4s', '10s');
    await kvPut(`secret/${id}/cfg`, { value: 'one' });
    const file = join(role.dir, 'cfg');
    const pf = startPilotfish({
      control: { enabled: false },
      vault: {
        address: services().VAULT_ADDR,
        auth: { approle: { roleIdFile: role.roleIdFile, secretIdFile: role.secretIdFile } },
        secrets: [{ name: 'cfg', path: `secret/${id}/cfg`, refresh: '500ms' }],
        files: [{ secret: 'cfg', field: 'value', path: file }],
        retry: { backoff: { initial: '200ms', max: '1s' } },
      },
      jobs: [{ name: 'idle', exec: 'sleep 3600' }],
    });
    const login = await pf.waitForLog('vault: logged in (approle)', 20_000);
    expect(login.ttlSeconds).toBe(4);
    const renewed = await pf.waitForLog('vault: token renewed', 10_000);
    const renewDelay = (renewed.time as number) - (login.time as number);
    expect(renewDelay).toBeGreaterThan(2000); // about 2/3 of 4 s...
    expect(renewDelay).toBeLessThan(4000); // ...and before the token expired
    expect(renewed.ttlSeconds).toBe(4);

    // The max TTL (10 s) caps a later renewal: Pilotfish logs in again before the token dies.
    const nearMax = await pf.waitForLog(/logging in again: the token nears its max TTL/, 15_000);
    expect((nearMax.time as number) - (login.time as number)).toBeLessThan(10_000);
    await pf.waitForLog('vault: logged in again (approle)', 5_000);

    // Revoke the live token with the root token; the next renewal or read gets 403 → new login.
    const mark = pf.logs.length;
    const accessors = await waitFor(() => accessorsOf(id).then((a) => (a.length > 0 ? a : undefined)), { message: "the role's token" });
    for (const a of accessors) await revokeAccessor(a);
    await waitFor(() => after(pf.logs, mark, /logging in again: the token was revoked or has expired/), {
      timeout: 10_000,
      message: `a new login after revocation; output:\n${pf.output().slice(-3000)}`,
    });
    await waitFor(() => after(pf.logs, mark, 'vault: logged in again (approle)'), { timeout: 10_000, message: 'the new login' });

    // Secrets still flow with the new token.
    await kvPut(`secret/${id}/cfg`, { value: 'two' });
    await waitFor(() => readFileSync(file, 'utf8') === 'two', { timeout: 10_000, message: 'the rotated value after re-login' });
    expect(pf.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  });
});
