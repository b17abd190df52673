#!/usr/bin/env bash
# make demo: start the local AWS emulator and deploy inventories/local with site.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
$py scripts/emulator.py start
eval "$($py scripts/emulator.py env)"
.venv/bin/ansible-playbook -i inventories/local site.yml "$@"
echo
echo "Deployed on the local emulator ($AWS_ENDPOINT_URL):"
$py scripts/show_environment.py local
cat <<'MSG'

Next:
  make demo                 re-run: reports changed=0
  eval "$(.venv/bin/python scripts/emulator.py env)" && .venv/bin/ansible-playbook -i inventories/local playbooks/preflight.yml
  make demo-stop            stop the emulator (its state is lost)
MSG
