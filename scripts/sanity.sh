#!/usr/bin/env bash
# ansible-test sanity on the collection. ansible-test needs the collection at
# .../ansible_collections/bluegreen/migration (a real path, not a link) with its
# dependency collections beside it, so the tracked tree is copied there first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
py=.venv/bin/python
tree=build/sanity/ansible_collections
dest=$tree/bluegreen/migration
rm -rf "$dest" && mkdir -p "$dest" "$tree/amazon"
# Tracked files plus new, not ignored ones: what a fresh clone would hold.
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents -P {} "$dest/" 2>/dev/null || true
site=$($py -c 'import ansible_collections.amazon.aws as m, os; print(os.path.dirname(os.path.dirname(m.__path__[0])))')
ln -sfn "$site/amazon/aws" "$tree/amazon/aws"
# ansible-test downloads a get-pip script from a host that is not reachable everywhere:
# seed its cache with the local equivalent for the pip version it asks for.
pip_version=$($py -c 'from ansible_test._internal.python_requirements import get_venv_packages as g; print(g(type("P", (), {"version": "3.12"})())["pip"])')
cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$cache")"
cp scripts/get_pip_local.py "$cache"
pyver=$($py -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$dest"
# git metadata lets ansible-test list files the way it does in CI.
git init -q . && git add -A >/dev/null 2>&1 || true
"$root/.venv/bin/ansible-test" sanity --venv --python "$pyver" --color no "$@"
