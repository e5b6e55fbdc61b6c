#!/bin/sh
# prerm: undo `pullback system install` while the program is still there. Not on upgrade:
# the new version's postinst runs `pullback system install` again.
set -e
case "$1" in
    remove|deconfigure)
        if [ -x /usr/bin/pullback ]; then
            /usr/bin/pullback system uninstall || echo "pullback: system uninstall failed; see 'pullback system status'" >&2
        fi
        ;;
esac
exit 0
