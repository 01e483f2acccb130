#!/usr/bin/env bash
# Runs a command inside a private D-Bus session that has an unlocked GNOME Keyring answering as the
# Secret Service (org.freedesktop.secrets), so the OS-keychain code can be tested for real on a
# machine without a desktop session:
#
#   scripts/with-keyring.sh npx vitest run electron/secrets
#
# The keyring lives in a fresh temporary folder (its own HOME, XDG_DATA_HOME, XDG_RUNTIME_DIR), so a
# real user's keyring is never read or written; the folder is deleted afterwards. The command itself
# runs with the caller's environment (its own HOME etc.) plus DBUS_SESSION_BUS_ADDRESS of the private
# bus and ARISTOBOT_TEST_KEYRING=1. The exit status is the command's.
#
# Needs: dbus-run-session and dbus-send (dbus / dbus-bin), gnome-keyring-daemon (gnome-keyring),
# secret-tool (libsecret-tools).
set -euo pipefail

if [[ "${_ARISTOBOT_KEYRING_STAGE:-}" != "inner" ]]; then
  # ---- outer stage: make the temporary folders, start the private bus, clean up afterwards ----
  if [[ $# -eq 0 ]]; then
    echo "usage: $0 <command> [arguments…]" >&2
    exit 64
  fi
  for tool in dbus-run-session dbus-send gnome-keyring-daemon secret-tool; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "with-keyring: '$tool' is not installed (apt-get install dbus gnome-keyring libsecret-tools)" >&2
      exit 69
    fi
  done

  tmp="$(mktemp -d "${TMPDIR:-/tmp}/aristobot-keyring.XXXXXX")"
  cleanup() { rm -rf "$tmp"; }
  trap cleanup EXIT
  mkdir -p "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/run"
  chmod 700 "$tmp" "$tmp/run"

  # Remember the caller's variables (set or unset) so the command gets them back unchanged.
  saved=()
  for v in HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_RUNTIME_DIR; do
    if [[ -n "${!v+x}" ]]; then saved+=("_ARISTOBOT_KEYRING_SAVED_$v=${!v}"); fi
  done

  # dbus-daemon (and any service it activates) sees only the temporary folders. Its own output
  # (harmless warnings such as "Failed to set fd limit" when run as root in a container, variables
  # printed by an activated keyring daemon) goes to a log file; the command's stdout and stderr are
  # restored from fds 4 and 3 in the inner stage.
  status=0
  # A real session's GNOME_KEYRING_CONTROL must not lead the new daemon to the user's own keyring.
  env -u GNOME_KEYRING_CONTROL ${saved[@]+"${saved[@]}"} \
    _ARISTOBOT_KEYRING_STAGE=inner \
    _ARISTOBOT_KEYRING_TMP="$tmp" \
    HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
    XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run" \
    dbus-run-session -- "${BASH:-bash}" "$0" "$@" 3>&2 4>&1 >>"$tmp/dbus.log" 2>&1 || status=$?
  if [[ -s "$tmp/setup-failed" ]]; then
    echo "with-keyring: could not start an unlocked keyring: $(cat "$tmp/setup-failed")" >&2
    echo "with-keyring: dbus/keyring log:" >&2
    cat "$tmp/dbus.log" >&2 || true
  fi
  exit "$status"
fi

# ---- inner stage: inside the private bus; start and unlock the keyring, then run the command ----
exec 1>&4 2>&3 3>&- 4>&-
unset _ARISTOBOT_KEYRING_STAGE
tmp="$_ARISTOBOT_KEYRING_TMP"
unset _ARISTOBOT_KEYRING_TMP

fail() {
  echo "$1" >"$tmp/setup-failed"
  exit 70
}

# A throwaway password for the throwaway "login" collection. --unlock reads it from stdin, creates
# the login keyring when it does not exist, unlocks it, and makes it the default collection.
password="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s' "$password" \
  | gnome-keyring-daemon --unlock --components=secrets --control-directory="$XDG_RUNTIME_DIR/keyring" \
      >/dev/null 2>>"$tmp/dbus.log" \
  || fail "gnome-keyring-daemon --unlock failed"
unset password

# --unlock may return before the daemon owns its bus name; a client arriving earlier would have
# D-Bus start a second daemon. Wait (up to 10 s) until the Secret Service name has an owner.
for _ in $(seq 1 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    break
  fi
  sleep 0.1
done

# Prove that a write to the default collection neither prompts nor fails, and reads back.
probe="probe-$$-$RANDOM"
printf '%s' "$probe" | timeout 10 secret-tool store --label='aristobot keyring probe' aristobot-keyring-probe "$probe" \
  2>>"$tmp/dbus.log" || fail "secret-tool store failed (is the login collection locked?)"
got="$(timeout 10 secret-tool lookup aristobot-keyring-probe "$probe" 2>>"$tmp/dbus.log" || true)"
[[ "$got" == "$probe" ]] || fail "secret-tool lookup did not return the value just stored"
timeout 10 secret-tool clear aristobot-keyring-probe "$probe" 2>>"$tmp/dbus.log" || fail "secret-tool clear failed"

# Give the command the caller's own folders back.
for v in HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_RUNTIME_DIR; do
  s="_ARISTOBOT_KEYRING_SAVED_$v"
  if [[ -n "${!s+x}" ]]; then export "$v=${!s}"; unset "$s"; else unset "$v"; fi
done
export ARISTOBOT_TEST_KEYRING=1
exec "$@"
