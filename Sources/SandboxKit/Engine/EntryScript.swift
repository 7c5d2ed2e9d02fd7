/// The entrypoint every sandbox image gets. It runs the service (or an init
/// script) as the recipe's `run-as` user, renumbered to the caller's uid and gid
/// so that files in the host data dir belong to the person who ran `sandbox`.
enum EntryScript {
    static let path = "/usr/local/bin/sandbox-entry"
    static let text = #"""
    #!/bin/sh
    # sandbox-entry COMMAND: run COMMAND with sh as $SANDBOX_RUN_AS.
    set -e
    u="${SANDBOX_RUN_AS:?}"
    if [ "$(id -u)" = 0 ]; then
      if [ -n "${SANDBOX_UID:-}" ] && [ "$SANDBOX_UID" != 0 ] && [ "$(id -u "$u")" != "$SANDBOX_UID" ]; then
        groupmod -o -g "$SANDBOX_GID" "$(id -gn "$u")"
        usermod -o -u "$SANDBOX_UID" -g "$SANDBOX_GID" "$u" 2>/dev/null
      fi
      d="${SANDBOX_DATA:-/data}"
      if [ -d "$d" ] && [ "$(stat -c %u "$d")" != "$(id -u "$u")" ]; then
        chown -R "$u:$(id -gn "$u")" "$d"
      fi
      home="$(getent passwd "$u" | cut -d: -f6)"
      exec setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups env HOME="$home" USER="$u" /bin/sh -c "$1"
    fi
    exec /bin/sh -c "$1"

    """#
}
