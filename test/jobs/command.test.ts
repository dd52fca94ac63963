import { describe, expect, it } from 'vitest';
import { toArgv } from '../../src/jobs/command.js';
import { resolveUser } from '../../src/jobs/user.js';

describe('toArgv', () => {
  it('keeps arrays as they are', () => {
    expect(toArgv(['echo', 'a b', '$HOME'], false)).toEqual(['echo', 'a b', '$HOME']);
  });

  it('splits strings with shell-word rules and never expands variables', () => {
    expect(toArgv(`nginx -g 'daemon off;' --x="a b" $HOME`, false)).toEqual(['nginx', '-g', 'daemon off;', '--x=a b', '$HOME']);
  });

  it('refuses shell syntax unless shell: true', () => {
    expect(() => toArgv('echo hi | wc -l', false)).toThrow(/uses shell syntax \(\|\); set shell: true/);
    expect(() => toArgv('a && b', false)).toThrow(/shell syntax/);
    expect(toArgv('echo hi | wc -l', true)).toEqual(['/bin/sh', '-c', 'echo hi | wc -l']);
  });
});

describe('resolveUser', () => {
  it('resolves names, uids and groups from /etc/passwd and /etc/group', () => {
    expect(resolveUser('root')).toMatchObject({ uid: 0, gid: 0, name: 'root' });
    expect(resolveUser('nobody')).toMatchObject({ uid: 65534, name: 'nobody' });
    expect(resolveUser('1234:5678')).toEqual({ uid: 1234, gid: 5678 });
    expect(resolveUser('nobody:root')).toMatchObject({ uid: 65534, gid: 0 });
  });

  it('names an unknown user', () => {
    expect(() => resolveUser('no-such-user')).toThrow('user "no-such-user" is not in /etc/passwd');
  });
});
