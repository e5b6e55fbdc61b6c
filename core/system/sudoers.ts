import { HELPER_WRAPPER, SUDO_GROUP } from './paths.js';
import { HELPER_OPERATION } from './helper-args.js';

/**
 * The sudoers drop-in for cron and headless use. The rule pins the program and its one
 * operation; the `*` lets any arguments through because the helper itself checks every one
 * against an allow-list (sudoers wildcards cannot express that). build/sudoers/ holds the same text.
 */
export function renderSudoers(): string {
  return [
    '# Pullback system mode: written by `pullback system install`, removed by `pullback system uninstall`.',
    `# Members of the ${SUDO_GROUP} group may start one read-only backup one-shot through the helper,`,
    '# which checks every argument itself. See docs/security.md (system mode).',
    `%${SUDO_GROUP} ALL=(root) NOPASSWD: ${HELPER_WRAPPER} ${HELPER_OPERATION} *`,
    '',
  ].join('\n');
}
