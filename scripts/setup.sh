#!/usr/bin/env bash
# Creates .venv with the pinned dependencies, links the dev tree as the collection
# bluegreen.migration and makes sure PostgreSQL (for the migrator tests) is installed.
# Safe to re-run: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
stamp=.venv/.installed
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
  py=$(scripts/find-python.sh)
  echo "setup: creating .venv with $py ($("$py" --version))"
  rm -rf .venv
  "$py" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ requirements-dev.txt -nt "$stamp" ]; then
  echo "setup: installing pinned Python dependencies"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  # The grep drops pip's notes about unused local index folders on some machines.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
  touch "$stamp"
fi
# Module runs import their module_utils from a zip that Python compiles anew each time (a
# quarter of a module run's CPU): scripts/site/bluegreen_code_cache.py keeps that byte code.
purelib=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# (Only when found: a checkout without the file, or a moved tree, starts Python as before.)
printf '%s\nimport importlib.util; importlib.util.find_spec("bluegreen_code_cache") and __import__("bluegreen_code_cache")\n' \
  "$root/scripts/site" >"$purelib/bluegreen-code-cache.pth"
# The dev tree is the collection: expose it as build/collections/ansible_collections/bluegreen/migration.
mkdir -p build/collections/ansible_collections/bluegreen
ln -sfn "$root" build/collections/ansible_collections/bluegreen/migration
# PostgreSQL server binaries for the migrator tests (Debian's package).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing PostgreSQL from Debian packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "setup: warning: PostgreSQL server binaries not found; install Debian's 'postgresql' package" >&2
  fi
fi
echo "setup: ready ($(.venv/bin/ansible --version 2>/dev/null | sed -n 1p))"
