import { HELPER_WRAPPER, POLKIT_ACTION_ID } from './paths.js';

/**
 * The polkit action for `pkexec /usr/lib/pullback/pullback-helper`: the active local user may
 * start it without a password (the helper only ever grants read access), anyone else must
 * authenticate as an administrator. build/polkit/ holds the same text for packaging.
 */
export function renderPolkitPolicy(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1/policyconfig.dtd">
<!-- Written by \`pullback system install\`; see docs/security.md (system mode). -->
<policyconfig>
  <vendor>Pullback</vendor>
  <action id="${POLKIT_ACTION_ID}">
    <description>Start a read-only backup of the whole filesystem</description>
    <message>Pullback wants to let your backup host read this computer's files (read-only, for one backup)</message>
    <defaults>
      <allow_any>auth_admin</allow_any>
      <allow_inactive>auth_admin</allow_inactive>
      <allow_active>yes</allow_active>
    </defaults>
    <annotate key="org.freedesktop.policykit.exec.path">${HELPER_WRAPPER}</annotate>
  </action>
</policyconfig>
`;
}
