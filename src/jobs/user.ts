/** Resolving `user:` (name, uid, name:group, uid:gid) to ids, from /etc/passwd and /etc/group. */
import { readFileSync } from 'node:fs';
import { PilotfishError } from '../kernel/errors.js';

export interface UserIds {
  uid: number;
  gid: number;
  /**
   * Supplementary groups: for a user given by name alone, the groups of /etc/group that list
   * it as a member (as `su`, `gosu` and Docker's `--user` give them). Empty otherwise.
   */
  groups: number[];
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

/** The account files read (tests point them elsewhere). */
export interface AccountFiles {
  passwd: string;
  group: string;
}

const SYSTEM: AccountFiles = { passwd: '/etc/passwd', group: '/etc/group' };

export function resolveUser(spec: string, files: AccountFiles = SYSTEM): UserIds {
  const [userPart = '', groupPart] = spec.split(':');
  const passwd = table(files.passwd);
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
    const group = /^\d+$/.test(groupPart) ? undefined : table(files.group).find((e) => e[0] === groupPart);
    if (!/^\d+$/.test(groupPart) && !group) throw new PilotfishError('PF_USER_UNKNOWN', `group "${groupPart}" is not in /etc/group`);
    gid = Number(group ? group[2] : groupPart);
  }
  const name = entry?.[0];
  const groups =
    name !== undefined && groupPart === undefined
      ? table(files.group)
          .filter((g) => (g[3] ?? '').split(',').includes(name))
          .map((g) => Number(g[2]))
          .filter((g) => Number.isInteger(g) && g !== gid)
      : [];
  const ids: UserIds = { uid, gid: gid ?? uid, groups: [...new Set(groups)] };
  if (name) ids.name = name;
  if (entry?.[5]) ids.home = entry[5];
  return ids;
}
