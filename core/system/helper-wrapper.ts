import { APP_DIR, HELPER_SCRIPT } from './paths.js';

/**
 * /usr/lib/pullback/pullback-helper, the one program pkexec and sudo may run: a root-owned Node
 * runs the root-owned app copy with an empty environment (no NODE_OPTIONS, no PATH games).
 */
export function renderHelperWrapper(nodePath: string): string {
  return [
    '#!/bin/sh',
    '# Pullback privileged helper: written by `pullback system install`; see docs/security.md (system mode).',
    `# Runs ${APP_DIR} (root-owned) with a fixed Node and an empty environment.`,
    `exec /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 ${nodePath} ${HELPER_SCRIPT} "$@"`,
    '',
  ].join('\n');
}
