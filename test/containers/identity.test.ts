// A unique identity per container whatever the network mode: with --network host every
// container has the host's hostname and addresses, yet each MariaDB node needs its own
// server_id (examples/mariadb/bin/lib.sh takes it from the container's id).
import { beforeAll, expect, it } from 'vitest';
import { describeWithPodman, ensureImages, podman } from './podman.js';

describeWithPodman('containers: identity under --network host', () => {
  let image = '';
  beforeAll(() => {
    image = ensureImages('mariadb').mariadb as string;
  }, 1_500_000);

  it('two MariaDB containers on the host network: same hostname, distinct server_id', async () => {
    const probe = () =>
      podman([
        'run',
        '--rm',
        '--pull=never',
        '--network',
        'host',
        '--entrypoint',
        'bash',
        image,
        '-c',
        '. /etc/pilotfish/mariadb/lib.sh; echo "$(hostname) $(server_id)"',
      ]).then((out) => out.split('\n').at(-1)?.split(' ') as [string, string]);
    const [a, b] = await Promise.all([probe(), probe()]);
    expect(a[0]).toBe(b[0]);
    expect(Number(a[1])).toBeGreaterThan(0);
    expect(Number(a[1])).toBeLessThanOrEqual(4294967295);
    expect(a[1]).not.toBe(b[1]);
  }, 120_000);
});
