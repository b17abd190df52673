"""The roles' "the resource as it is now" after an apply that wrote only part: the writer's
registered answer when it ran, else what the plan read (filters ran, answer_or, loop_answers).
The registered shapes come from a real ansible-playbook run (a task skipped, one that ran, an
empty loop, a loop with one item skipped, a loop with every item skipped), and the filters are
also run through the playbook's own templating, where the writer's variable is undefined when
its task file was not included."""

import json

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils.plan import answer_or, loop_answers, task_ran
from tests.harness.aws import run_playbook

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - ansible.builtin.debug: {msg: never}
      when: false
      register: skipped_task
    - ansible.builtin.set_stats: {data: {arn: arn-written}}
      register: ran_task
    - ansible.builtin.debug: {msg: "{{ item }}"}
      loop: []
      register: empty_loop
    - ansible.builtin.set_stats: {data: {arn: "arn-{{ item.color }}"}}
      loop: [{color: blue}, {color: green}]
      when: item.color == 'green'
      register: partial_loop
    - ansible.builtin.debug: {msg: "{{ item.color }}"}
      loop: [{color: blue}]
      when: false
      register: all_skipped_loop
    - name: The filters as the roles call them, on what the playbook registered
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ {'registered': registered, 'filtered': filtered} | to_json }}"
      vars:
        registered: {skipped_task: "{{ skipped_task }}", ran_task: "{{ ran_task }}", empty_loop: "{{ empty_loop }}",
                     partial_loop: "{{ partial_loop }}", all_skipped_loop: "{{ all_skipped_loop }}"}
        filtered:
          never_included: "{{ never_included_task | default(none) | bluegreen.migration.answer_or('as planned') }}"
          never_included_ran: "{{ never_included_task | default(none) | bluegreen.migration.ran }}"
          skipped: "{{ skipped_task | default(none) | bluegreen.migration.answer_or('as planned', 'ansible_stats') }}"
          ran: "{{ ran_task | default(none) | bluegreen.migration.answer_or('as planned', 'ansible_stats.data.arn') }}"
          loop_never_included: >-
            {{ {'blue': 'planned'} | combine(never_included_loop | default(none) | bluegreen.migration.loop_answers('item.color', 'x')) }}
          loop_partial: >-
            {{ {'blue': 'planned'} | combine(partial_loop | default(none) | bluegreen.migration.loop_answers('item.color', 'ansible_stats.data.arn')) }}
          loop_all_skipped: "{{ all_skipped_loop | default(none) | bluegreen.migration.loop_answers('item.color', 'x') }}"
          empty_loop_ran: "{{ empty_loop | default(none) | bluegreen.migration.ran }}"
          partial_loop_ran: "{{ partial_loop | default(none) | bluegreen.migration.ran }}"
"""


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("answers")
    (tmp / "play.yml").write_text(PLAYBOOK)
    out = tmp / "out.json"
    proc = run_playbook(tmp / "play.yml", "localhost,", extra_vars={"out": str(out)})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def registered(played):
    return played["registered"]


def test_what_ran_and_what_did_not(registered):
    assert task_ran(registered["ran_task"]) is True
    assert task_ran(registered["partial_loop"]) is True
    for name in ("skipped_task", "empty_loop", "all_skipped_loop"):
        assert task_ran(registered[name]) is False, name
    assert task_ran(None) is False


def test_a_loop_whose_items_all_skipped_did_not_run_even_unflagged(registered):
    # The loop's own skipped flag aside, its items decide.
    loop = dict(registered["all_skipped_loop"], skipped=False)
    assert task_ran(loop) is False


def test_answer_or_takes_the_answer_only_from_a_writer_that_ran(registered):
    assert answer_or(registered["ran_task"], "planned", "ansible_stats.data.arn") == "arn-written"
    assert answer_or(registered["ran_task"], "planned") is registered["ran_task"]
    assert answer_or(registered["skipped_task"], "planned", "ansible_stats.data.arn") == "planned"
    assert answer_or(None, "planned", "anything") == "planned"


def test_answer_or_names_what_a_ran_writer_lacks(registered):
    with pytest.raises(KeyError, match="the writer's answer has no cluster.cluster_arn"):
        answer_or(registered["ran_task"], "planned", "cluster.cluster_arn")


def test_loop_answers_keep_the_items_that_ran(registered):
    assert loop_answers(registered["partial_loop"], "item.color", "ansible_stats.data.arn") == {"green": "arn-green"}
    assert loop_answers(registered["all_skipped_loop"], "item.color", "x") == {}
    assert loop_answers(registered["empty_loop"], "item", "x") == {}
    assert loop_answers(None, "item", "x") == {}
    with pytest.raises(KeyError, match="a loop result has no target_group.target_group_arn"):
        loop_answers(registered["partial_loop"], "item.color", "target_group.target_group_arn")


def test_the_filters_in_the_playbook_templating(played):
    assert played["filtered"] == {
        "never_included": "as planned",
        "never_included_ran": False,
        "skipped": "as planned",
        "ran": "arn-written",
        "loop_never_included": {"blue": "planned"},
        "loop_partial": {"blue": "planned", "green": "arn-green"},
        "loop_all_skipped": {},
        "empty_loop_ran": False,
        "partial_loop_ran": True,
    }
