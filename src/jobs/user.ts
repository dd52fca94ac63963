/** Resolving `user:` (name, uid, name:group, uid:gid) to ids, from /etc/passwd and /etc/group. */
import { readFileSync } from 'node:fs';
import { PilotfishError } from '../core/errors.js';

export interface UserIds {
  uid: number;
  gid: number;
  name?: string;
  home?: string;
}

function table(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

export function resolveUser(spec: string): UserIds {
  const [userPart = '', groupPart] = spec.split(':');
  const passwd = table('/etc/passwd');
  const entry = /^\d+$/.test(userPart) ? passwd.find((e) => e[2] === userPart) : passwd.find((e) => e[0] === userPart);
  let uid: number;
  let gid: number | undefined;
  if (entry) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  } else if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
  } else {
    throw new PilotfishError('PF_USER_UNKNOWN', `user "${userPart}" is not in /etc/passwd`);
  }
  if (groupPart !== undefined) {
    const group = /^\d+$/.test(groupPart) ? undefined : table('/etc/group').find((e) => e[0] === groupPart);
    if (!/^\d+$/.test(groupPart) && !group) throw new PilotfishError('PF_USER_UNKNOWN', `group "${groupPart}" is not in /etc/group`);
    gid = Number(group ? group[2] : groupPart);
  }
  const ids: UserIds = { uid, gid: gid ?? uid };
  if (entry?.[0]) ids.name = entry[0];
  if (entry?.[5]) ids.home = entry[5];
  return ids;
}
