#!/usr/bin/env bash
# The project's two commands, from a fresh Debian 12 machine:
#
#   scripts/dev.sh demo    set up Python deps, run the demo on the embedded
#                          default (the headless HexChat emulator)
#   scripts/dev.sh test    set up everything (Debian packages for real HexChat,
#                          the unprivileged test user, Python deps) and run the
#                          whole suite, end-to-end tests against real HexChat
#                          included, plus `hexsandbox check` on scripts/examples
#   scripts/dev.sh bench   run the benchmarks (see docs/benchmarks.md)
#
# Needs root or passwordless sudo for the Debian packages. Never reads stdin.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="$ROOT/.venv"
PY=/usr/bin/python3   # Debian's Python: the one HexChat embeds

say() { printf 'dev.sh: %s\n' "$*"; }

setup_python() {
    if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        say "installing python3-venv"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV with $PY"
        "$PY" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
}

case "${1:-}" in
    demo)
        setup_python
        exec "$VENV/bin/hexsandbox" demo
        ;;
    test)
        bash scripts/setup-system.sh
        setup_python
        mkdir -p build
        # Lint and types first: cheap, and a real mistake shows before the slow part.
        "$VENV/bin/ruff" check hexsandbox/
        "$VENV/bin/mypy" hexsandbox/
        # -p no:cacheprovider: CI runs from a fresh clone; nothing to reuse.
        "$VENV/bin/python" -m pytest -n auto -q -p no:cacheprovider -m "not stress" \
            --junitxml=build/junit.xml "${@:2}"
        # The stress tests bound HexChat's main-loop gaps while they load both
        # CPUs for 30 s: alone, so that they measure HexChat, not the suite.
        # (Exit 5, "no tests collected", when the arguments name none of them.)
        "$VENV/bin/python" -m pytest -p no:xdist -q -p no:cacheprovider -m stress \
            --junitxml=build/junit-stress.xml "${@:2}" || [ $? -eq 5 ]
        ;;
    bench)
        bash scripts/setup-system.sh
        setup_python
        "$VENV/bin/python" benchmarks/codec.py
        "$VENV/bin/python" benchmarks/hook_roundtrip.py
        "$VENV/bin/python" benchmarks/remote_roundtrip.py
        "$VENV/bin/python" benchmarks/perl_hook_roundtrip.py
        "$VENV/bin/python" benchmarks/hexchat_burst.py
        "$VENV/bin/python" benchmarks/hexchat_scale.py
        "$VENV/bin/python" benchmarks/check_time.py
        "$VENV/bin/python" benchmarks/deps_load.py
        "$VENV/bin/python" benchmarks/worker_start.py
        ;;
    *)
        echo "usage: scripts/dev.sh demo|test|bench" >&2
        exit 2
        ;;
esac
