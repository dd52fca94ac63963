// Default Consul service ids stay unique per container whatever the network mode: the container's
// id (from the engine's /etc/hostname mount) joins the hostname when the hostname is not it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { containerId, instanceName } from '../../src/consul/register.js';

const ID = '88e7b3a7d666d3b1c60da19b936c3265189575ce2097ff32fe715bf71a927499';
const podmanLine = `108 101 254:0 /run/containers/storage/overlay-containers/${ID}/userdata/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw`;
const dockerLine = `612 590 8:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw`;
const other = '25 30 0:23 / /proc rw,nosuid,nodev,noexec,relatime shared:14 - proc proc rw';

describe('consul: instance name', () => {
  it('finds the container id in podman and Docker mountinfo, nothing outside a container', () => {
    expect(containerId(`${other}\n${podmanLine}\n`)).toBe(ID);
    expect(containerId(`${dockerLine}\n${other}`)).toBe(ID);
    expect(containerId(other)).toBeUndefined();
    expect(containerId('')).toBeUndefined();
  });

  it("keeps the hostname when it is the container id (the engines' default)", () => {
    expect(instanceName(ID.slice(0, 12), podmanLine)).toBe(ID.slice(0, 12));
  });

  it('adds the short container id to a shared hostname (--network host, clones)', () => {
    expect(instanceName('build-host', podmanLine)).toBe(`build-host-${ID.slice(0, 12)}`);
    expect(instanceName('build-host', podmanLine.replace(ID, ID.replace(/^88/, '99')))).not.toBe(instanceName('build-host', podmanLine));
  });

  it('is $HOSTNAME when the environment sets it to another name than the kernel hostname (nodes sharing one host)', () => {
    expect(instanceName('vm', other, { HOSTNAME: 'db-q' })).toBe('db-q');
    expect(instanceName('build-host', podmanLine, { HOSTNAME: 'build-host' })).toBe(`build-host-${ID.slice(0, 12)}`);
  });

  it('is the hostname outside a container', () => {
    expect(instanceName('laptop', other)).toBe('laptop');
    // and this process's own mountinfo is readable
    expect(typeof instanceName()).toBe('string');
    expect(readFileSync('/proc/self/mountinfo', 'utf8').length).toBeGreaterThan(0);
  });
});
