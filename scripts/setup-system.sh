#!/usr/bin/env bash
# Install what the end-to-end suite (tests/e2e) needs on Debian 12 and create
# the unprivileged user HexChat runs as.
#
# Idempotent: installs only missing packages (running `apt-get update` at most
# once, and only when something is missing) and creates the user only if it
# does not exist. Works as root, or as a normal user with passwordless sudo
# (`sudo -n`). Never reads stdin (safe with CI=true and no terminal).
#
# Environment:
#   HEXSANDBOX_E2E_USER   name of the unprivileged user (default hexsandbox-e2e)
#   SETUP_SKIP_APT=1      skip the package step (user creation only)
set -euo pipefail

E2E_USER="${HEXSANDBOX_E2E_USER:-hexsandbox-e2e}"
E2E_HOME="/var/lib/${E2E_USER}"
PACKAGES=(hexchat hexchat-python3 hexchat-perl libdata-messagepack-perl xvfb ngircd xdotool python3-venv pipx)

say() { printf 'setup-system: %s\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    say "must run as root or as a user with passwordless sudo" >&2
    exit 1
fi
as_root() { "${SUDO[@]}" "$@"; }

export DEBIAN_FRONTEND=noninteractive
# Keep apt from ever asking anything, even through a debconf frontend.
APT_OPTS=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

installed() {
    # true when the package is fully installed ("install ok installed")
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

if [ "${SETUP_SKIP_APT:-0}" = "1" ]; then
    say "SETUP_SKIP_APT=1: not touching packages"
else
    missing=()
    for p in "${PACKAGES[@]}"; do
        installed "$p" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "packages already installed: ${PACKAGES[*]}"
    else
        say "missing packages: ${missing[*]}"
        say "running apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
        say "installing: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install "${APT_OPTS[@]}" "${missing[@]}" </dev/null
        for p in "${missing[@]}"; do
            installed "$p" || { say "package $p is still not installed" >&2; exit 1; }
        done
        say "installed: ${missing[*]}"
    fi
fi

# The tests start their own ngircd on 127.0.0.1 with a private config. If the
# package started the system daemon (listening on all interfaces, port 6667),
# stop and disable it. (Docker images usually forbid that via policy-rc.d.)
if [ -s /run/ngircd/ngircd.pid ] && kill -0 "$(cat /run/ngircd/ngircd.pid)" 2>/dev/null; then
    as_root invoke-rc.d ngircd stop </dev/null || true
    as_root update-rc.d ngircd disable >/dev/null 2>&1 || true
    say "stopped and disabled the system ngircd service (tests run their own)"
fi

if id -u "$E2E_USER" >/dev/null 2>&1; then
    say "user $E2E_USER already exists (uid $(id -u "$E2E_USER"))"
else
    nologin=/usr/sbin/nologin
    [ -x "$nologin" ] || nologin=/bin/false
    as_root useradd --system --user-group --create-home --home-dir "$E2E_HOME" \
        --shell "$nologin" --comment "hexsandbox end-to-end tests" "$E2E_USER"
    say "created system user $E2E_USER (uid $(id -u "$E2E_USER"), home $E2E_HOME)"
fi

home_dir="$(getent passwd "$E2E_USER" | cut -d: -f6)"
if [ -n "$home_dir" ] && [ ! -d "$home_dir" ]; then
    as_root install -d -o "$E2E_USER" -g "$(id -gn "$E2E_USER")" -m 0750 "$home_dir"
    say "created missing home $home_dir"
fi

for tool in hexchat Xvfb ngircd xdotool setpriv; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
        say "expected tool $tool not found" >&2; exit 1; }
done
[ -e /usr/lib/x86_64-linux-gnu/hexchat/plugins/python.so ] \
    || ls /usr/lib/*/hexchat/plugins/python.so >/dev/null 2>&1 \
    || { say "HexChat's python plugin is missing" >&2; exit 1; }
say "done"
