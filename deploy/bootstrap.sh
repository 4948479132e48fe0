#!/usr/bin/env bash
# Set up Herald on a fresh Debian/Ubuntu machine, then run one of:
#   demo  - the main job: `herald up --demo` (embedded Redis + the Discord sandbox)
#   test  - lint, type-check, the layer contract and the whole test suite (what CI runs)
#   setup - only install
# Installs what is missing: python3-venv, redis-server, chromium (tests only), the
# virtualenv in .venv with Herald and its pinned dependencies. Idempotent and quiet
# when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-demo}"; shift || true

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ "$mode" = test ]; then
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]} with apt-get"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Herald needs Python >= 3.11 (found $(python3 --version))" >&2; exit 1; }

stamp=.venv/.herald-installed
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing Herald and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi

case "$mode" in
  setup) say "ready: .venv/bin/herald --help" ;;
  demo) exec .venv/bin/herald up --demo "$@" ;;
  test)
    say "ruff"; .venv/bin/ruff check .  # one command a line: `set -e` ignores a failing `a && b`
    .venv/bin/ruff format --check .
    say "mypy (strict)"; .venv/bin/mypy
    say "layers (import-linter)"; .venv/bin/lint-imports --no-cache
    # Two pytest processes (pytest-xdist): most tests wait on their redis-server, sandbox
    # and engine processes. Three were faster but overloaded 2 cores enough to break
    # timing-bound tests. A test file runs whole in one process (its module fixtures are
    # built once), files in the order they are collected, so the long chaos runs start
    # early. Arguments after `test` win: `-n 0` runs serially.
    say "pytest"; exec .venv/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder "$@"
    ;;
  *) echo "usage: deploy/bootstrap.sh [demo|test|setup] [args...]" >&2; exit 2 ;;
esac
