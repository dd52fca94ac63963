// The WordPress compose demo, up for real, with the real thing: the official wordpress:*-apache
// image (here its stand-in, scripts/containers/wordpress) with Pilotfish as PID 1, and the
// MariaDB example's image as its database, both backing up to MinIO. A post and an uploaded
// image made through WordPress (its installer and XML-RPC API) survive replacing both containers
// together with their volumes (`docker-compose rm -sfv`, then `up`): the new containers restore
// from the store (which keeps its data, as S3 would).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { ComposeProject } from './compose.js';
import { describeWithPodman, ensureImages, ensureStandins, inspect } from './podman.js';

const exec = promisify(execFile);
const HOST = 'wordpress.test';

/** A real PNG (random pixels, so that WordPress's image checks see an image no one has). */
function png(size = 32): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = (crcTable[(c ^ x) & 0xff] as number) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const t = Buffer.concat([Buffer.from(type), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(t));
    return Buffer.concat([len, t, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.concat(Array.from({ length: size }, () => Buffer.concat([Buffer.from([0]), randomBytes(size * 3)])));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

describeWithPodman('containers: compose demo examples/wordpress (a post and an upload survive rm -sfv + up)', () => {
  let project: ComposeProject;
  const password = `Adm1n-${randomBytes(6).toString('hex')}`;

  /** curl to WordPress by its container address, always as http://wordpress.test (its site URL). */
  async function curl(path: string, args: string[] = []): Promise<{ code: number; body: Buffer }> {
    const id = await project.id('wordpress');
    const ip = await inspect(id, '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}');
    const { stdout } = await exec(
      'curl',
      ['-sS', '--max-time', '60', '--resolve', `${HOST}:80:${ip}`, '-w', '\n%{http_code}', ...args, `http://${HOST}${path}`],
      {
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const nl = stdout.lastIndexOf(10);
    return { code: Number(stdout.subarray(nl + 1).toString()), body: stdout.subarray(0, nl) };
  }
  async function xmlrpc(method: string, params: string): Promise<string> {
    const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params><param><value><int>1</int></value></param><param><value><string>admin</string></value></param><param><value><string>${password}</string></value></param>${params}</params></methodCall>`;
    const r = await curl('/xmlrpc.php', ['-H', 'Content-Type: text/xml', '--data-binary', body]);
    const text = r.body.toString();
    expect(text, `${method}: ${text.slice(0, 500)}`).not.toContain('faultCode');
    return text;
  }
  /** `up` of the Pilotfish services; when it fails, the failure says what each of them logged
   * (the containers go with the project's cleanup, and their logs with them). */
  const up = async () => {
    try {
      await project.up(['mariadb', 'wordpress'], 900);
    } catch (error) {
      const details: string[] = [];
      for (const service of ['mariadb', 'wordpress']) {
        const id = await project.id(service).catch(() => undefined);
        if (!id) continue;
        const state = await inspect(id, '{{.State.Status}} {{.State.ExitCode}} restarts={{.RestartCount}}').catch((e: Error) => e.message);
        const log = await project.logs(service).catch((e: Error) => e.message);
        details.push(`--- ${service} (${state}), podman logs (last 200 lines):\n${log.split('\n').slice(-200).join('\n')}`);
      }
      console.error(details.join('\n'));
      throw new Error(`${(error as Error).message}\n${details.join('\n')}`, { cause: error });
    }
  };

  beforeAll(async () => {
    ensureStandins('wordpress');
    ensureImages('wordpress', 'mariadb');
    project = new ComposeProject('wordpress', ['consul', 'vault', 'minio', 'wordpress']);
    await project.up(['consul', 'vault', 'minio']);
    await project.once(['consul-seed', 'vault-seed', 'minio-seed']);
    await up();
  }, 1_800_000);
  afterAll(async () => {
    await project?.down();
  });

  it('install, a post and an image through WordPress; rm -sfv of WordPress and its database; up; both are back', async () => {
    await waitFor(async () => (await curl('/wp-admin/install.php')).code === 200, { timeout: 120_000, interval: 1000, message: 'install.php' });
    const install = await curl('/wp-admin/install.php?step=2', [
      ...[
        'weblog_title=Pilotfish demo',
        'user_name=admin',
        `admin_password=${password}`,
        `admin_password2=${password}`,
        'pw_weak=1',
        'admin_email=admin@example.invalid',
        'blog_public=0',
      ].flatMap((f) => ['--data-urlencode', f]),
    ]);
    expect(install.body.toString()).toContain('Success!');

    const title = `Survives replacement ${randomBytes(4).toString('hex')}`;
    const created = await xmlrpc(
      'wp.newPost',
      `<param><value><struct><member><name>post_title</name><value><string>${title}</string></value></member><member><name>post_content</name><value><string>Written through XML-RPC.</string></value></member><member><name>post_status</name><value><string>publish</string></value></member></struct></value></param>`,
    );
    const postId = /<string>(\d+)<\/string>/.exec(created)?.[1];
    expect(postId, created).toBeDefined();
    const image = png();
    const uploaded = await xmlrpc(
      'wp.uploadFile',
      `<param><value><struct><member><name>name</name><value><string>survivor-${randomBytes(3).toString('hex')}.png</string></value></member><member><name>type</name><value><string>image/png</string></value></member><member><name>bits</name><value><base64>${image.toString('base64')}</base64></value></member></struct></value></param>`,
    );
    const url = /<name>url<\/name><value><string>([^<]+)/.exec(uploaded)?.[1] as string;
    expect(url, uploaded).toMatch(new RegExp(`^http://${HOST}/wp-content/uploads/`));
    const path = url.slice(`http://${HOST}`.length);
    expect((await curl(path)).body.equals(image)).toBe(true);
    expect((await curl(`/?p=${postId}`)).body.toString()).toContain(title);

    // Replace WordPress and its database with their volumes, as `docker compose rm -sfv` does:
    // their stop runs the final backups (preStop hooks) within the grace period.
    const [wpOld, dbOld] = [await project.id('wordpress'), await project.id('mariadb')];
    await project.run(['rm', '-s', '-f', '-v', 'wordpress', 'mariadb'], 600_000);
    await up();
    const [wpNew, dbNew] = [await project.id('wordpress'), await project.id('mariadb')];
    expect(wpNew).not.toBe(wpOld);
    expect(dbNew).not.toBe(dbOld);
    expect(await project.logs('mariadb')).toMatch(/restored/i);
    expect(await project.logs('wordpress')).toMatch(/restored/i);

    const post = await waitFor(
      async () => {
        const r = await curl(`/?p=${postId}`);
        return r.code === 200 && r.body.toString().includes(title) ? r : undefined;
      },
      { timeout: 180_000, interval: 1000, message: 'the post after the replacement' },
    );
    expect(post.body.toString()).toContain(title);
    const again = await curl(path);
    expect(again.code).toBe(200);
    expect(again.body.equals(image), 'the uploaded image, byte for byte').toBe(true);
  }, 1_800_000);
});
