/**
 * The address a service is registered with, chosen from a job's `interfaces` spec (as in
 * ContainerPilot): the first spec that matches an address of this host wins.
 *
 *   eth0          IPv4 of eth0          eth0:inet6    IPv6 of eth0
 *   10.0.0.0/8    first address in the CIDR (IPv4 or IPv6 CIDR)
 *   inet / inet6  first non-loopback address of that family (any interface)
 *   static:IP     this address as given
 */
import { BlockList, isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { PilotfishError } from '../kernel/errors.js';

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Skip IPv6 link-local addresses: they are useless without a zone. */
function usable(a: NetworkInterfaceInfo): boolean {
  return !(a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:'));
}

function matchOne(spec: string, ifaces: Interfaces): string | undefined {
  const s = spec.trim();
  if (s.startsWith('static:')) {
    const ip = s.slice('static:'.length);
    return isIP(ip) ? ip : undefined;
  }
  if (s === 'inet' || s === 'inet6') {
    const family = s === 'inet' ? 'IPv4' : 'IPv6';
    const all = Object.values(ifaces).flatMap((l) => l ?? []);
    const pick = all.find((a) => a.family === family && !a.internal && usable(a)) ?? all.find((a) => a.family === family && usable(a));
    return pick?.address;
  }
  const cidr = /^(.+)\/(\d{1,3})$/.exec(s);
  if (cidr && isIP(cidr[1] as string)) {
    const ipv6 = isIP(cidr[1] as string) === 6;
    const list = new BlockList();
    list.addSubnet(cidr[1] as string, Number(cidr[2]), ipv6 ? 'ipv6' : 'ipv4');
    for (const addrs of Object.values(ifaces)) {
      for (const a of addrs ?? []) {
        if ((a.family === 'IPv6') !== ipv6 || !usable(a)) continue;
        if (list.check(a.address, ipv6 ? 'ipv6' : 'ipv4')) return a.address;
      }
    }
    return undefined;
  }
  const [iface, fam] = s.split(':');
  const family = fam === 'inet6' ? 'IPv6' : 'IPv4';
  return (ifaces[iface as string] ?? []).find((a) => a.family === family && usable(a))?.address;
}

/**
 * The address for a spec list. With no spec: the first non-loopback IPv4 address, then
 * loopback. Throws PF_CONSUL_ADDRESS naming the specs when none matches.
 */
export function chooseAddress(specs: string | string[] | undefined, ifaces: Interfaces = networkInterfaces()): string {
  const list = specs === undefined ? ['inet', 'lo'] : Array.isArray(specs) ? specs : [specs];
  for (const spec of list) {
    const found = matchOne(spec, ifaces);
    if (found) return found;
  }
  const have = Object.entries(ifaces)
    .map(([name, addrs]) => `${name}=${(addrs ?? []).map((a) => a.address).join(',')}`)
    .join(' ');
  throw new PilotfishError(
    'PF_CONSUL_ADDRESS',
    `no address of this host matches interfaces [${list.join(', ')}] (this host has: ${have || 'no interfaces'}); fix the job's interfaces`,
  );
}
