import { excludesForTree } from '../pull/pull-trees.js';

/*
 * The scan skips what the pull's rsync excludes, so that the index holds the sources "after
 * excludes". Only the pattern forms rsync documents for plain exclude rules are understood
 * (anchored "/…", unanchored, trailing "/" for directories, *, ?, [..], **); a pattern with
 * anything else (a backslash, "***") excludes nothing here: listing too much costs a little
 * work (rsync still applies the rule), skipping too much would lose changes.
 */

export interface ExcludeMatcher {
  /** `rel` is relative to the tree, without a leading "/" */
  excludes(rel: string, isDirectory: boolean): boolean;
}

interface Rule {
  regex: RegExp;
  dirOnly: boolean;
}

function globToRegex(glob: string): string | undefined {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '\\') return undefined;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        if (glob[i + 2] === '*') return undefined;
        out += '.*';
        i++;
      } else out += '[^/]*';
    } else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) return undefined;
      let body = glob.slice(i + 1, end);
      if (body.includes('[') || body.includes('\\')) return undefined;
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body}]`;
      i = end;
    } else out += ch.replace(/[.+^${}()|\]]/g, '\\$&');
  }
  return out;
}

function rule(pattern: string): Rule | undefined {
  const dirOnly = pattern.endsWith('/');
  const body = dirOnly ? pattern.slice(0, -1) : pattern;
  if (body === '' || body === '/') return undefined;
  const anchored = body.startsWith('/');
  const glob = anchored ? body.slice(1) : body;
  const regex = globToRegex(glob);
  if (regex === undefined) return undefined;
  // rsync: an anchored pattern matches from the tree's root; any other matches the end of the
  // path at a component boundary (without a "/" or "**" that is the last component only).
  const whole = anchored ? `^${regex}$` : `(?:^|/)${regex}$`;
  return { regex: new RegExp(whole, 's'), dirOnly };
}

/** The exclude rules of one tree, as its rsync gets them (anchored ones rewritten to the tree). */
export function treeExcludeMatcher(tree: string, excludes: readonly string[]): ExcludeMatcher {
  const rules = excludesForTree(tree, excludes)
    .map(rule)
    .filter((r): r is Rule => r !== undefined);
  return {
    excludes(rel, isDirectory) {
      for (const r of rules) {
        if (r.dirOnly && !isDirectory) continue;
        if (r.regex.test(rel)) return true;
      }
      return false;
    },
  };
}

/** A glob that find's -name and -path read exactly as rsync does (no "**", classes, escapes). */
const PLAIN_GLOB = /^[A-Za-z0-9._ +,=@%~-]*(?:\*[A-Za-z0-9._ +,=@%~-]*)*$/;
const LITERAL = /^[A-Za-z0-9._ +,=@%~/-]+$/;

/**
 * find(1) arguments that prune (do not descend into) what a tree's rules surely exclude: an
 * anchored literal path, or a one-component name of letters and "*". Only an optimisation: the
 * scan still applies every rule to what find prints, and a rule not translated here only costs
 * the walk of what it excludes. Never prunes more than rsync excludes (that would lose changes).
 */
export function findPruneArgs(tree: string, excludes: readonly string[]): string[] {
  const base = tree === '/' ? '' : tree;
  const tests: string[][] = [];
  for (const pattern of excludesForTree(tree, excludes)) {
    const dirOnly = pattern.endsWith('/');
    const body = dirOnly ? pattern.slice(0, -1) : pattern;
    if (body === '' || body === '/' || rule(pattern) === undefined) continue;
    const typed = dirOnly ? ['-type', 'd'] : [];
    if (body.startsWith('/')) {
      const path = body.slice(1);
      if (!LITERAL.test(path) || path.split('/').some((p) => p === '' || p === '.' || p === '..'))
        continue;
      tests.push(['-path', `${base}/${path}`, ...typed]);
    } else if (PLAIN_GLOB.test(body) && body !== '.' && body !== '..') {
      tests.push(['-name', body, ...typed]);
    }
  }
  if (tests.length === 0) return [];
  return [
    '(',
    ...tests.flatMap((t, i) => (i ? ['-o', '(', ...t, ')'] : ['(', ...t, ')'])),
    ')',
    '-prune',
    '-o',
  ];
}
