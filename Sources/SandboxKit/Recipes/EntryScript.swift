/// The entrypoint every sandbox image gets. It runs the service (or an init
/// script) as the recipe's `run-as` user, renumbered to the caller's uid and gid
/// so that files in the host data dir belong to the person who ran `sandbox`.
///
/// With `SANDBOX_READY` set, it also starts the recipe's readiness check in a
/// background loop that creates `.sandbox-ready` in the data dir once the check
/// passes. The host waits for that file instead of polling with `docker exec`,
/// which costs a process tree per poll. The loop is detached so that it is
/// reparented to the container's init (`docker run --init`), never to the service.
///
/// With a script in `/run/sandbox/once` (the instance's own password for the service's login user, written by the
/// host before a fresh copy's container starts), the loop runs it once the check passes, before it marks the service
/// ready, and creates `.sandbox-once-done` when it succeeded; the host then needs no `docker exec` for it (two of them
/// were ~10 % of a fresh instance's CPU). The file is opened as root, handed to the loop alone as a descriptor (the
/// service never holds it) and removed at once, so a later start of the container never runs it again. The script is
/// read into a shell variable and evaluated, as `docker exec` runs steps: never an argument, which every process list
/// would show. It gets 20 seconds. One that fails or hangs, or an image made before this, leaves no mark, and the host
/// runs the script with `docker exec` as before (and shows its error).
///
/// A service's own environment (`env` in the sandbox recipe: connection strings with passwords) is read from
/// `/run/sandbox/env`, a file of the instance's run folder, as root before the service starts: it is in no
/// container configuration, so `docker inspect` never shows it.
package enum EntryScript {
    package static let path = "/usr/local/bin/sandbox-entry"
    package static let text = #"""
    #!/bin/sh
    # sandbox-entry COMMAND: run COMMAND with sh as $SANDBOX_RUN_AS.
    set -e
    u="${SANDBOX_RUN_AS:?}"
    d="${SANDBOX_DATA:-/data}"
    if [ -r /run/sandbox/env ]; then set -a; . /run/sandbox/env; set +a; fi
    o=; if [ -r /run/sandbox/once ] && command exec 3</run/sandbox/once; then o=1; rm -f /run/sandbox/once 2>/dev/null || :; fi
    ready='until /bin/sh -c "$SANDBOX_READY" >/dev/null 2>&1 3<&-; do sleep 0.05; done
    if [ -n "$2" ] && timeout 20 /bin/sh -c "s=\$(cat <&3); exec 3<&-; eval \"\$s\"" </dev/null >/dev/null 2>&1; then : > "$1/.sandbox-once-done"; fi
    exec 3<&-; : > "$1/.sandbox-ready"'
    if [ "$(id -u)" = 0 ]; then
      if [ -n "${SANDBOX_UID:-}" ] && [ "$SANDBOX_UID" != 0 ] && [ "$(id -u "$u")" != "$SANDBOX_UID" ]; then
        groupmod -o -g "$SANDBOX_GID" "$(id -gn "$u")"
        usermod -o -u "$SANDBOX_UID" -g "$SANDBOX_GID" "$u" 2>/dev/null
      fi
      if [ -d "$d" ] && [ "$(stat -c %u "$d")" != "$(id -u "$u")" ]; then
        chown -R "$u:$(id -gn "$u")" "$d"
      fi
      home="$(getent passwd "$u" | cut -d: -f6)"
      if [ -n "${SANDBOX_READY:-}" ]; then
        ( setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups env HOME="$home" USER="$u" /bin/sh -c "$ready" sh "$d" "$o" & )
      fi
      exec setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups env HOME="$home" USER="$u" /bin/sh -c "$1" 3<&-
    fi
    if [ -n "${SANDBOX_READY:-}" ]; then ( /bin/sh -c "$ready" sh "$d" "$o" & ); fi
    exec /bin/sh -c "$1" 3<&-

    """#
}
