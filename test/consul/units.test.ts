// Pure pieces of the Consul subsystem: address choice, KV variable names, normalized content.
import * as valibot from 'valibot';
import { describe, expect, it } from 'vitest';
import type { NetworkInterfaceInfo } from 'node:os';
import { chooseAddress } from '../../src/jobs/address.js';
import { variableName, variablesOf } from '../../src/consul/kvenv.js';
import { fingerprint, normalize } from '../../src/consul/blocking-query.js';
import { consulSchema } from '../../src/consul/config.js';
import { serviceQuery } from '../../src/consul/sources.js';

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo => ({
  address,
  family,
  internal,
  netmask: '',
  mac: '',
  cidr: null,
  scopeid: 0,
});

const IFACES = {
  lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
  eth0: [nic('10.1.2.3', 'IPv4'), nic('fe80::1', 'IPv6'), nic('fd00::3', 'IPv6')],
  eth1: [nic('192.168.5.6', 'IPv4')],
};

describe('chooseAddress', () => {
  it('follows the interfaces spec, first match wins', () => {
    expect(chooseAddress('eth1', IFACES)).toBe('192.168.5.6');
    expect(chooseAddress('eth0:inet6', IFACES)).toBe('fd00::3'); // link-local skipped
    expect(chooseAddress(['eth9', '192.168.0.0/16'], IFACES)).toBe('192.168.5.6');
    expect(chooseAddress('fd00::/8', IFACES)).toBe('fd00::3');
    expect(chooseAddress('static:1.2.3.4', IFACES)).toBe('1.2.3.4');
    expect(chooseAddress('inet', IFACES)).toBe('10.1.2.3');
    expect(chooseAddress('inet6', IFACES)).toBe('fd00::3');
    expect(chooseAddress(undefined, IFACES)).toBe('10.1.2.3');
  });

  it('names the specs and the host addresses when nothing matches', () => {
    expect(() => chooseAddress(['eth9', '172.16.0.0/12'], IFACES)).toThrow(/eth9, 172\.16\.0\.0\/12.*eth0=10\.1\.2\.3/);
  });
});

describe('KV environment names', () => {
  const spec = (extra: Record<string, unknown>) => valibot.parse(consulSchema, { kv: [{ jobs: ['app'], ...extra }] }).kv[0]!;

  it('strips, upper-cases and sanitises like envconsul', () => {
    expect(variablesOf(spec({ prefix: 'app/config/' }), { 'db.host': 'h', 'max-conn': '5', '9lives': 'y' })).toEqual({
      DB_HOST: 'h',
      MAX_CONN: '5',
      _9LIVES: 'y',
    });
    expect(variablesOf(spec({ prefix: 'app/config', strip: false, envPrefix: 'X_' }), { a: '1' })).toEqual({ X_APP_CONFIG_A: '1' });
    expect(variablesOf(spec({ prefix: 'p/', upperCase: false, sanitize: false }), { 'a.b': '1' })).toEqual({ 'a.b': '1' });
    expect(variablesOf(spec({ key: 'app/db/password' }), 's3cret')).toEqual({ PASSWORD: 's3cret' });
    expect(variablesOf(spec({ key: 'app/db/password', name: 'DB_PASS' }), 's3cret')).toEqual({ DB_PASS: 's3cret' });
    expect(variablesOf(spec({ key: 'app/db/password' }), undefined)).toEqual({});
    expect(variableName(spec({ key: 'a/b', strip: false }), 'a/b')).toBe('A_B');
  });
});

describe('normalized content', () => {
  it('ignores order of instances, tags and meta keys', () => {
    const q = { kind: 'service', service: 'web' } as const;
    const a = normalize(q, [
      { Node: { Node: 'n2', Address: '10.0.0.2' }, Service: { ID: 'w2', Port: 80, Tags: ['x', 'y'], Meta: { b: '1', a: '2' } } },
      { Node: { Node: 'n1', Address: '10.0.0.1' }, Service: { ID: 'w1', Address: '10.9.9.9', Port: 81, Tags: [] } },
    ]);
    const b = normalize(q, [
      { Node: { Node: 'n1', Address: '10.0.0.1' }, Service: { ID: 'w1', Address: '10.9.9.9', Port: 81, Tags: null } },
      { Node: { Node: 'n2', Address: '10.0.0.2' }, Service: { ID: 'w2', Port: 80, Tags: ['y', 'x'], Meta: { a: '2', b: '1' } } },
    ]);
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect((a as Array<{ address: string }>).map((i) => i.address)).toEqual(['10.9.9.9', '10.0.0.2']);
    const c = normalize(q, [{ Node: { Node: 'n1' }, Service: { ID: 'w1', Address: '10.9.9.9', Port: 82 } }]);
    expect(fingerprint(c)).not.toBe(fingerprint(b));
  });

  it('maps a prefix to relative keys and skips folders', () => {
    const q = { kind: 'prefix', prefix: 'app/' } as const;
    expect(
      normalize(q, [
        { Key: 'app/b', Value: '2' },
        { Key: 'app/', Value: null },
        { Key: 'app/a', Value: '1' },
      ]),
    ).toEqual({ a: '1', b: '2' });
    expect(normalize({ kind: 'key', key: 'k' }, undefined)).toBeUndefined();
    expect(normalize({ kind: 'key', key: 'k' }, { Key: 'k', Value: null })).toBe('');
  });

  it('parses service references with tag and datacenter', () => {
    expect(serviceQuery('web?tag=v1&dc=dc2')).toEqual({ kind: 'service', service: 'web', tag: 'v1', datacenter: 'dc2' });
    expect(serviceQuery('web', 'dc1')).toEqual({ kind: 'service', service: 'web', datacenter: 'dc1' });
  });
});
