#!/usr/bin/env bash
# Prints the path of a working Python >= 3.12 (ansible-core 2.21 needs it), or explains
# what to install and exits 1. A pyenv shim that exists but fails is skipped, not trusted.
set -u
works() { "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for v in python3.13 python3.12 python3; do
  p=$(command -v "$v" 2>/dev/null) && candidates+=("$p")
done
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for p in $(ls -d "$pyenv_root"/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV); do
  candidates+=("$p")
done
for p in /usr/bin/python3.13 /usr/bin/python3.12 /usr/local/bin/python3.13 /usr/local/bin/python3.12; do
  [ -x "$p" ] && candidates+=("$p")
done
for p in "${candidates[@]}"; do
  if works "$p"; then echo "$p"; exit 0; fi
done
cat >&2 <<'MSG'
error: no working Python >= 3.12 found (ansible-core 2.21 requires it).
Tried: $PYTHON, python3.13, python3.12, python3, and pyenv's versions/3.12+.
Install one, for example:
  apt-get install python3.12 python3.12-venv    (Debian testing / Ubuntu 24.04)
  pyenv install 3.12                            (any distribution)
then re-run, or point PYTHON=/path/to/python3.12 at it.
MSG
exit 1
