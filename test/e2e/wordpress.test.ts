// WordPress (examples/wordpress/pilotfish.yaml, unchanged) against real Consul, Vault and MinIO,
// Pilotfish as PID 1 of its own PID namespace. The web server is a fixture that records its
// pid and the signals it gets (the PHP stack itself is not needed to prove the wiring).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { killAll, ROOT, startPilotfish, type Running } from '../helpers/pilotfish.js';
import { describeWithServices, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { deregisterService, kvDeleteTree, kvPut, registerService, removeTempDirs, s3Env, tempDir, uniqueName, vaultPut } from './helpers.js';
import { readText as read } from '../helpers/files.js';

const CONFIG = readFileSync(join(ROOT, 'examples/wordpress/pilotfish.yaml'), 'utf8');
const WEB = join(ROOT, 'test/e2e/fixtures/web.sh');

describeWithServices('e2e: WordPress (examples/wordpress)', ['consul', 'vault', 's3'], () => {
  const id = uniqueName('wp');
  const kvPrefix = `e2e/${id}`;
  const dbService = `${id}-db`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const keys = Object.fromEntries(
    ['auth_key', 'secure_auth_key', 'logged_in_key', 'nonce_key', 'auth_salt', 'secure_auth_salt', 'logged_in_salt', 'nonce_salt'].map((k) => [
      k,
      `${k}-${randomBytes(8).toString('hex')}`,
    ]),
  );

  /** One "container": its own document root, uploads dir and record file. */
  function instance(): { root: string; uploads: string; record: string; config: string; start: () => Running } {
    const root = tempDir('pf-e2e-wp-');
    const uploads = join(root, 'wp-content/uploads');
    const record = join(root, 'web.record');
    mkdirSync(uploads, { recursive: true }); // as the image does (see examples/wordpress/Dockerfile)
    const s = services();
    const env = {
      ...s3Env(),
      CONSUL_HTTP_ADDR: s.CONSUL_HTTP_ADDR,
      VAULT_ADDR: s.VAULT_ADDR,
      VAULT_TOKEN: s.VAULT_TOKEN,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug',
      PILOTFISH_SOCKET: join(root, 'pilotfish.sock'),
      WP_ROOT: root,
      WP_UPLOADS: uploads,
      WP_CONFIG_TEMPLATE: join(ROOT, 'examples/wordpress/wp-config.php.liquid'),
      WP_CONFIG_OWNER: 'root:root',
      WP_KV_PREFIX: kvPrefix,
      WP_VAULT_PATH: `e2e/${id}`,
      WP_DB_SERVICE: dbService,
      BACKUP_BUCKET: s.PILOTFISH_TEST_BUCKET,
      BACKUP_PREFIX: `e2e/${id}/uploads/`,
      BACKUP_QUIET: '300ms',
      WEB_EXEC: WEB,
      WEB_HEALTH: 'true',
      WEB_PORT: '18080',
      WEB_RECORD: record,
    };
    return { root, uploads, record, config: join(root, 'wp-config.php'), start: () => startPilotfish(CONFIG, { pid1: true, env, dir: root }) };
  }

  afterAll(async () => {
    await killAll();
    removeTempDirs();
    await kvDeleteTree(kvPrefix).catch(() => undefined);
    await deregisterService(`${dbService}-1`).catch(() => undefined);
  });

  it('renders wp-config.php from Consul and Vault, re-renders and reloads on change, backs up uploads and restores them in a fresh instance', async () => {
    await kvPut(`${kvPrefix}/db_name`, 'wp_e2e');
    await kvPut(`${kvPrefix}/table_prefix`, 'wpe2e_');
    await kvPut(`${kvPrefix}/debug`, 'false');
    await registerService({ id: `${dbService}-1`, name: dbService, address: '10.11.12.13', port: 3306, tags: ['primary'] });
    await vaultPut(`e2e/${id}/db`, { user: 'wp_e2e_user', password });
    await vaultPut(`e2e/${id}/keys`, keys);

    // --- first instance ----------------------------------------------------------------------
    const a = instance();
    const pfA = a.start();
    const firstStart = await waitFor(() => /^ready (\d+)$/m.exec(read(a.record))?.[1], {
      timeout: 30_000,
      message: `the web job to start; output:\n${pfA.output().slice(-3000)}`,
    });
    const rendered = read(a.config);
    expect(read(a.record)).toContain('config present'); // rendered before the web job started
    expect(rendered).toContain("define( 'DB_NAME', 'wp_e2e' );");
    expect(rendered).toContain("$table_prefix = 'wpe2e_';");
    expect(rendered).toContain("define( 'DB_HOST', '10.11.12.13:3306' );");
    expect(rendered).toContain(`define( 'DB_PASSWORD', '${password}' );`);
    expect(rendered).toContain(`define( 'NONCE_SALT',       '${keys.nonce_salt}' );`);
    expect(rendered).toContain("define( 'WP_DEBUG', false );");
    expect(statSync(a.config).mode & 0o777).toBe(0o640);

    // A Consul key changes: the file is rendered again and the web job reloaded in place.
    await kvPut(`${kvPrefix}/table_prefix`, 'wpnew_');
    await waitFor(() => read(a.config).includes("$table_prefix = 'wpnew_';"), { timeout: 15_000, message: 'the re-render' });
    await waitFor(() => read(a.record).includes(`SIGUSR1 ${firstStart}`), { timeout: 10_000, message: 'the reload signal' });

    // The database moves (a failover, in Consul): DB_HOST follows, another reload.
    await registerService({ id: `${dbService}-1`, name: dbService, address: '10.11.12.14', port: 3307, tags: ['primary'] });
    await waitFor(() => read(a.config).includes("define( 'DB_HOST', '10.11.12.14:3307' );"), { timeout: 15_000, message: 'DB_HOST re-rendered' });
    await waitFor(() => read(a.record).match(/^SIGUSR1 /gm)?.length === 2, { timeout: 10_000, message: 'the second reload' });
    expect(read(a.record).match(/^start /gm)).toHaveLength(1); // never restarted

    // Uploads written: a backup follows.
    const photo = randomBytes(300_000);
    mkdirSync(join(a.uploads, '2026/11'), { recursive: true });
    writeFileSync(join(a.uploads, '2026/11/photo.jpg'), photo);
    writeFileSync(join(a.uploads, 'readme.txt'), 'uploaded\n');
    await pfA.waitForLog((l) => l.msg.startsWith('backed up') && (l.files as number) >= 2, 30_000);

    // No secret in Pilotfish's output.
    expect(pfA.output()).not.toContain(password);
    expect(pfA.output()).not.toContain(keys.auth_key);

    // --- the container is gone; a fresh one with an empty uploads dir ------------------------
    await pfA.kill();
    const b = instance();
    const pfB = b.start();
    await waitFor(() => /^ready \d+$/m.test(read(b.record)), { timeout: 30_000, message: `the new web job; output:\n${pfB.output().slice(-3000)}` });
    // The web job saw the restored uploads when it started.
    expect(read(b.record), pfB.output().slice(-6000)).toContain('saw 2026');
    expect(read(b.record)).toContain('saw readme.txt');
    expect(readFileSync(join(b.uploads, '2026/11/photo.jpg')).equals(photo)).toBe(true);
    expect(read(b.config)).toContain("define( 'DB_HOST', '10.11.12.14:3307' );");
    await pfB.signal('SIGTERM');
    expect((await pfB.exited).code).toBe(0);
    expect(read(b.record)).toMatch(/^stop \d+$/m);
  }, 120_000);
});
