// The other login methods against the real Vault: a token file replaced while running (the new
// token is used, the old one may be revoked), and JWT login with a key pair made here (Vault's jwt
// auth at its own mount, validating with our public key).
import { createSign, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killAll, startPilotfish } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { createAppRole, kvPut, setPolicy, unique, vaultApi } from './http.js';
import { readText as read } from '../helpers/files.js';

afterEach(killAll);

function jwt(privateKey: string, claims: Record<string, unknown>): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}`;
  const signature = createSign('RSA-SHA256').update(body).sign(privateKey).toString('base64url');
  return `${body}.${signature}`;
}

describeWithServices('vault: token file and JWT login', ['vault'], () => {
  it('a token file is re-read when it changes; the old token can then be revoked', async () => {
    const id = unique('pf-tokfile');
    await setPolicy(id, [`secret/data/${id}/*`]);
    await kvPut(`secret/${id}/cfg`, { value: 'one' });
    const dir = (await createAppRole(id, [id])).dir; // a temp dir
    const mint = async (): Promise<{ token: string; accessor: string }> => {
      const auth = (await vaultApi('POST', 'auth/token/create', { policies: [id], ttl: '1h' })).auth;
      return { token: auth.client_token as string, accessor: auth.accessor as string };
    };
    const first = await mint();
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${first.token}\n`, { mode: 0o600 });
    const out = join(dir, 'cfg');
    const pf = startPilotfish({
      control: { enabled: false },
      vault: {
        address: services().VAULT_ADDR,
        auth: { tokenFile: { path: tokenFile } },
        secrets: [{ name: 'cfg', path: `secret/${id}/cfg`, refresh: '300ms' }],
        files: [{ secret: 'cfg', field: 'value', path: out }],
      },
      jobs: [{ name: 'idle', exec: 'sleep 3600' }],
    });
    await pf.waitForLog('vault: logged in (tokenFile)', 20_000);
    const second = await mint();
    writeFileSync(tokenFile, `${second.token}\n`);
    await pf.waitForLog(/logging in again: .*token changed/, 10_000);
    await pf.waitForLog('vault: logged in again (tokenFile)', 10_000);
    await vaultApi('POST', 'auth/token/revoke-accessor', { accessor: first.accessor });
    await kvPut(`secret/${id}/cfg`, { value: 'two' });
    await waitFor(() => read(out) === 'two', { timeout: 10_000, message: 'a read with the new token' });
    for (const t of [first.token, second.token]) expect(pf.output()).not.toContain(t);
  });

  it('JWT login with a role bound to an audience (a key pair made here)', async () => {
    const id = unique('pf-jwt');
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await vaultApi('POST', `sys/auth/${id}`, { type: 'jwt' });
    await vaultApi('POST', `auth/${id}/config`, { jwt_validation_pubkeys: [publicKey] });
    await setPolicy(id, [`secret/data/${id}/*`]);
    await vaultApi('POST', `auth/${id}/role/app`, {
      role_type: 'jwt',
      user_claim: 'sub',
      bound_audiences: ['pilotfish'],
      token_policies: [id],
      token_ttl: '1h',
    });
    await kvPut(`secret/${id}/cfg`, { value: 'from-jwt' });
    const dir = (await createAppRole(`${id}-tmp`, [])).dir;
    const jwtFile = join(dir, 'jwt');
    const now = Math.floor(Date.now() / 1000);
    const token = jwt(privateKey, { sub: 'app-1', aud: 'pilotfish', iat: now, nbf: now - 5, exp: now + 600 });
    writeFileSync(jwtFile, token, { mode: 0o600 });
    const pf = startPilotfish({
      control: { enabled: false },
      vault: {
        address: services().VAULT_ADDR,
        auth: { jwt: { role: 'app', jwtFile, mount: id } },
        secrets: [{ name: 'cfg', path: `secret/${id}/cfg` }],
      },
      jobs: [{ name: 'app', exec: ['sh', '-c', `echo "$CFG" > ${join(dir, 'out')}; sleep 3600`], secrets: { CFG: 'cfg#value' } }],
    });
    await waitFor(() => read(join(dir, 'out')) === 'from-jwt\n', { timeout: 20_000, message: `the job's env; output:\n${pf.output()}` });
    expect(pf.logs.some((l) => l.msg === 'vault: logged in (jwt)')).toBe(true);
    expect(pf.output()).not.toContain(token);
  });
});
