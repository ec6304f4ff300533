#!/bin/sh
# Installs Debian's Firefox ESR for the Firefox browser tests (test/browser/run-firefox.mjs) if it
# is missing. Idempotent: does nothing when /usr/bin/firefox-esr (or $FIREFOX_PATH) is there.
# Driven by puppeteer-core over WebDriver BiDi (a devDependency); nothing is downloaded by it.
set -eu

say() { echo "install-firefox: $*"; }
fail() { echo "install-firefox: ERROR: $*" >&2; exit 1; }

if [ -n "${FIREFOX_PATH:-}" ] && [ -x "$FIREFOX_PATH" ]; then
  say "using FIREFOX_PATH=$FIREFOX_PATH: $("$FIREFOX_PATH" --version 2>/dev/null || echo '(version unknown)')"
  exit 0
fi
if [ -x /usr/bin/firefox-esr ]; then
  say "already installed: /usr/bin/firefox-esr: $(/usr/bin/firefox-esr --version 2>/dev/null || echo '(version unknown)')"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install Firefox yourself and set FIREFOX_PATH"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO="sudo" || fail "not root and no sudo: run as root: apt-get install -y firefox-esr"
fi

say "running: ${SUDO:+$SUDO }apt-get update -qq"
$SUDO apt-get update -qq || fail "apt-get update failed (is the Debian mirror reachable?)"
say "running: ${SUDO:+$SUDO }DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends firefox-esr"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends firefox-esr >/tmp/install-firefox.log 2>&1 || {
  tail -20 /tmp/install-firefox.log >&2
  fail "apt-get install firefox-esr failed (full log: /tmp/install-firefox.log)"
}
[ -x /usr/bin/firefox-esr ] || fail "apt-get reported success but /usr/bin/firefox-esr is missing"
say "installed: /usr/bin/firefox-esr: $(/usr/bin/firefox-esr --version 2>/dev/null || echo '(version unknown)')"
