import { probeTool } from './exec.js';

/** A passwd entry, as getent reports it. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export function lookupAccount(name: string): Account | undefined {
  const out = probeTool('getent', ['passwd', name]);
  if (out.status !== 0) return undefined;
  const [user, , uid, gid, , home, shell] = out.stdout.trim().split(':');
  return { name: user!, uid: Number(uid), gid: Number(gid), home: home ?? '', shell: shell ?? '' };
}

export function lookupGroup(
  name: string,
): { name: string; gid: number; members: string[] } | undefined {
  const out = probeTool('getent', ['group', name]);
  if (out.status !== 0) return undefined;
  const [group, , gid, members] = out.stdout.trim().split(':');
  return { name: group!, gid: Number(gid), members: (members ?? '').split(',').filter(Boolean) };
}
