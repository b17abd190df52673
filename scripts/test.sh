#!/usr/bin/env bash
# make test: every quality gate, in order of speed. Any failure fails the run.
#   scripts/test.sh                 all stages
#   scripts/test.sh pytest lint     only these (ruff, pytest, lint, sanity, molecule)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$root/ansible.cfg"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(ruff pytest lint sanity molecule)
scenarios=${MOLECULE_SCENARIOS:-$(ls -d molecule/*/ 2>/dev/null | xargs -n1 basename | sort | tr '\n' ' ')}
# Two pytest workers by default (each with its own emulator and PostgreSQL): the playbook
# runs spend part of their time waiting, so two overlap well even on 2 cores.
pytest_workers=${PYTEST_WORKERS:-2}
passed=0
failed=0
failures=()

run_stage() {
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED ($((SECONDS - start)) s)"
  fi
}

# Molecule scenarios share one emulator, started here and stopped on exit.
emulator_port=""
start_emulator() {
  emulator_port=$(python -c 'import sys; sys.path.insert(0, "scripts"); import emulator; print(emulator.free_port())')
  python scripts/emulator.py start --port "$emulator_port" --state-dir "$root/.run" >/dev/null || return 1
  eval "$(python scripts/emulator.py env --port "$emulator_port")"
}
stop_emulator() { [ -n "$emulator_port" ] && python scripts/emulator.py stop --port "$emulator_port" --state-dir "$root/.run" >/dev/null; }
trap stop_emulator EXIT

molecule_all() {
  start_emulator || return 1
  local rc=0 s
  for s in $scenarios; do
    # Each scenario starts from an empty account.
    python scripts/emulator.py reset --port "$emulator_port" --state-dir "$root/.run"
    molecule test -s "$s" || rc=1
  done
  return $rc
}

for stage in "${stages[@]}"; do
  case $stage in
    ruff) run_stage ruff ruff check . ;;
    pytest) run_stage pytest python -m pytest -q -p no:cacheprovider -n "$pytest_workers" --dist loadfile ;;
    lint) run_stage ansible-lint ansible-lint --profile production --offline -q ;;
    sanity) run_stage sanity scripts/sanity.sh ;;
    molecule) run_stage molecule molecule_all ;;
    *) echo "unknown stage: $stage (ruff, pytest, lint, sanity, molecule)" >&2; exit 2 ;;
  esac
done

echo
[ $failed -gt 0 ] && echo "failed stages: ${failures[*]}"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
