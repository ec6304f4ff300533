#!/bin/sh
# Installs Debian's Chromium for the browser tests (test/browser/run.mjs) if it is missing.
# Idempotent: does nothing when /usr/bin/chromium (or $CHROMIUM_PATH) is already there.
# Never uses playwright's browser downloader: the network here is Debian + npm only.
set -eu

say() { echo "install-chromium: $*"; }
fail() { echo "install-chromium: ERROR: $*" >&2; exit 1; }

version() {
  # The Debian wrapper prints a harmless "[: ...: unexpected operator" on stderr when /dev/shm is
  # mounted twice (its /etc/chromium.d/dev-shm check): hide stderr here.
  "$1" --version 2>/dev/null || echo "(version unknown)"
}

if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then
  say "using CHROMIUM_PATH=$CHROMIUM_PATH: $(version "$CHROMIUM_PATH")"
  exit 0
fi
if [ -x /usr/bin/chromium ]; then
  say "already installed: /usr/bin/chromium: $(version /usr/bin/chromium)"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install Chromium yourself and set CHROMIUM_PATH"

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    fail "not root and no sudo: run as root: apt-get update && apt-get install -y chromium"
  fi
fi

say "running: ${SUDO:+$SUDO }apt-get update -qq"
$SUDO apt-get update -qq || fail "apt-get update failed (is the Debian mirror reachable?)"
say "running: ${SUDO:+$SUDO }DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/tmp/install-chromium.log 2>&1 || {
  tail -20 /tmp/install-chromium.log >&2
  fail "apt-get install chromium failed (full log: /tmp/install-chromium.log)"
}
[ -x /usr/bin/chromium ] || fail "apt-get reported success but /usr/bin/chromium is missing"
say "installed: /usr/bin/chromium: $(version /usr/bin/chromium)"
