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
# Scenarios whose steps another run already makes are only syntax-checked here:
#   default, ecs_service and network (the whole stack, the application tier over its network,
#     the network): tests/integration/test_rollout.py deploys the whole environment, re-runs
#     it (changed=0), runs the three scenarios' verify.yml on it, and its teardown checks that
#     nothing of the environment is left;
#   aurora: the migrator_lambda scenario converges network, aurora and the migrator,
#     imports aurora/verify.yml and its destroy checks that no cluster is left.
# So every role keeps molecule's converge, idempotence, verify and destroy, and the one
# scenario run whole (migrator_lambda) keeps molecule itself a gate.
# MOLECULE_SCENARIOS="network aurora ..." runs those whole as well.
syntax_only="default ecs_service network aurora"
scenarios=${MOLECULE_SCENARIOS:-$(ls -d molecule/*/ 2>/dev/null | xargs -n1 basename | grep -vxF -f <(tr ' ' '\n' <<<"$syntax_only") | sort | tr '\n' ' ')}
# Three pytest workers by default (each with its own emulator and PostgreSQL): the playbook
# runs spend part of their time waiting (AWS-style retries and polls, above all on the
# realistic emulator), so three overlap well on 2 cores. Four were measured slower (30.3 min
# against 25.0 and 26.4 with three), and again no faster on 2026-12-06 (23 min 54 s against
# 24 min 6 s, 7 % more CPU): each process then needs more CPU for the same work.
pytest_workers=${PYTEST_WORKERS:-3}
passed=0
failed=0
failures=()

# A finished stage: its name, its exit status and how long it took, counted and printed.
record_stage() {
  local name=$1 status=$2 took=$3
  if [ "$status" = 0 ]; then
    passed=$((passed + 1)); echo "=== $name: ok ($took)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED ($took)"
  fi
}

run_stage() {
  local name=$1; shift
  local start=$SECONDS status=0
  echo "=== $name"
  "$@" || status=1
  record_stage "$name" "$status" "$((SECONDS - start)) s"
}

# Molecule scenarios run two at a time (MOLECULE_JOBS), each on an emulator of its own
# (started from an empty account and stopped when the scenario ends); each scenario's output
# is printed whole when it ends.
molecule_jobs=${MOLECULE_JOBS:-2}
molecule_one() {
  local s=$1 port state="$root/.run/molecule-$1" rc=0
  # --port 0: a free port, tried again elsewhere if another process binds it first.
  port=$(python scripts/emulator.py start --port 0 --state-dir "$state" | sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\).*|\1|p')
  [ -n "$port" ] || return 1
  (eval "$(python scripts/emulator.py env --port "$port")" && molecule test -s "$s") || rc=1
  python scripts/emulator.py stop --port "$port" --state-dir "$state" >/dev/null
  return $rc
}

# On any exit, no scenario's emulator is left running (their pid files are in .run/molecule-*).
stop_molecule_emulators() {
  local f
  for f in "$root"/.run/molecule-*/moto-*.pid; do
    [ -f "$f" ] && kill -TERM -- "-$(cat "$f")" 2>/dev/null; rm -f "$f"
  done
  return 0
}
trap stop_molecule_emulators EXIT

molecule_all() {
  local rc=0 s pid logs="$root/build/molecule-logs"
  local -A running=()
  mkdir -p "$logs"
  report() {  # the scenario of a finished job: its output, then its result
    local job=$1 status=$2
    cat "$logs/${running[$job]}.log"
    if [ "$status" -eq 0 ]; then echo "--- molecule ${running[$job]}: ok"; else echo "--- molecule ${running[$job]}: FAILED"; rc=1; fi
    unset "running[$job]"
  }
  for s in $scenarios; do
    while [ ${#running[@]} -ge "$molecule_jobs" ]; do
      wait -n -p pid "${!running[@]}"; report "$pid" $?
    done
    molecule_one "$s" >"$logs/$s.log" 2>&1 &
    running[$!]=$s
  done
  # The syntax-only scenarios are checked while the others run.
  for s in $syntax_only; do
    [[ " $scenarios " == *" $s "* || ! -d molecule/$s ]] && continue
    molecule syntax -s "$s" >"$logs/$s-syntax.log" 2>&1 || { cat "$logs/$s-syntax.log"; echo "--- molecule $s (syntax): FAILED"; rc=1; }
  done
  while [ ${#running[@]} -gt 0 ]; do
    wait -n -p pid "${!running[@]}"; report "$pid" $?
  done
  return $rc
}

stage_command() {
  case $1 in
    ruff) echo "ruff ruff check ." ;;
    pytest) echo "pytest python -m pytest -q -p no:cacheprovider -n $pytest_workers --dist loadfile --no-loadscope-reorder --durations=15" ;;
    lint) echo "ansible-lint ansible-lint --profile production --offline -q" ;;
    sanity) echo "sanity scripts/sanity.sh" ;;
    molecule) echo "molecule molecule_all" ;;
    *) return 1 ;;
  esac
}
for stage in "${stages[@]}"; do
  stage_command "$stage" >/dev/null || { echo "unknown stage: $stage (ruff, pytest, lint, sanity, molecule)" >&2; exit 2; }
done

# The suite is CPU-bound, and pytest leaves some of the 2 cores idle (a worker waiting on an
# emulated AWS delay, the last long flows). When pytest runs, lint, sanity and molecule run
# beside it at a lower priority (nice): they take only the CPU pytest leaves, and what remains
# of them runs on after it. Their output is printed whole, in order, once pytest is done.
behind=()
if [[ " ${stages[*]} " == *" pytest "* ]]; then
  for stage in "${stages[@]}"; do
    [[ $stage == lint || $stage == sanity || $stage == molecule ]] && behind+=("$stage")
  done
fi
stage_logs="$root/build/stage-logs"
mkdir -p "$stage_logs"
declare -A behind_pid=()
for stage in "${behind[@]}"; do
  read -r -a cmd <<<"$(stage_command "$stage")"
  ( renice -n 10 -p "$BASHPID" >/dev/null; start=$SECONDS
    if "${cmd[@]:1}"; then rc=0; else rc=1; fi
    echo "$rc $((SECONDS - start))" >"$stage_logs/$stage.result" ) >"$stage_logs/$stage.log" 2>&1 &
  behind_pid[$stage]=$!
done

for stage in "${stages[@]}"; do
  read -r -a cmd <<<"$(stage_command "$stage")"
  if [[ -n ${behind_pid[$stage]:-} ]]; then
    wait "${behind_pid[$stage]}"
    echo "=== ${cmd[0]} (beside pytest, at a lower priority)"
    cat "$stage_logs/$stage.log"
    read -r rc took <"$stage_logs/$stage.result" || rc=1
    record_stage "${cmd[0]}" "$rc" "${took:-?} s from its start"
  else
    run_stage "${cmd[@]}"
  fi
done

echo
[ $failed -gt 0 ] && echo "failed stages: ${failures[*]}"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
