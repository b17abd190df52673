"""controller_files, the action that writes the report files on the controller: what differs
(content, mode, nothing), atomic writes, bad names and modes refused; then through
ansible-playbook: check mode writes nothing and diff shows the file's before and after."""

import os
import stat

import pytest
import yaml
from ansible.errors import AnsibleActionFail

from ansible_collections.bluegreen.migration.plugins.action import controller_files as action
from tests.harness.aws import recap, run_playbook


def test_plan_names_what_differs(tmp_path):
    (tmp_path / "same.json").write_text("{}\n")
    os.chmod(tmp_path / "same.json", 0o644)
    (tmp_path / "other.json").write_text("{}\n")
    os.chmod(tmp_path / "other.json", 0o600)
    (tmp_path / "old.md").write_text("before\n")
    os.chmod(tmp_path / "old.md", 0o644)
    files = [
        {"name": "same.json", "content": "{}\n"},
        {"name": "other.json", "content": "{}\n"},
        {"name": "old.md", "content": "after\n"},
        {"name": "new.md", "content": "new\n"},
    ]
    entries = {e["name"]: e for e in action.plan_files(str(tmp_path), files, 0o644)}
    assert entries["same.json"]["differs"] == []
    assert entries["other.json"]["differs"] == ["mode"]
    assert entries["old.md"]["differs"] == ["content"] and entries["old.md"]["before"] == b"before\n"
    assert entries["new.md"]["differs"] == ["content"] and entries["new.md"]["before"] is None


@pytest.mark.parametrize("name", ["", "../x.json", "/etc/passwd", "a/b.json", ".."])
def test_a_name_outside_the_directory_is_refused(tmp_path, name):
    with pytest.raises(AnsibleActionFail, match="plain file name"):
        action.plan_files(str(tmp_path), [{"name": name, "content": "x"}], 0o644)


@pytest.mark.parametrize("text", ["rw-r--r--", "0999", "77777"])
def test_a_bad_mode_is_refused(text):
    with pytest.raises(AnsibleActionFail, match="mode"):
        action.file_mode(text, "mode")


def test_write_replaces_the_file_whole_with_its_mode(tmp_path):
    path = tmp_path / "r.md"
    path.write_text("old")
    action.write_atomically(str(path), b"new", 0o640)
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md"]  # no temporary file left


PLAY = """
- name: Write two files on the controller
  hosts: localhost
  gather_facts: false
  connection: local
  tasks:
    - name: Write them
      bluegreen.migration.controller_files:
        directory: "{{ target }}"
        files:
          - {name: a.json, content: "{{ content_a }}"}
          - {name: b.md, content: "# b\\n"}
"""


def write(tmp_path, content_a, *args):
    (tmp_path / "play.yml").write_text(PLAY)
    extra = {"target": str(tmp_path / "out"), "content_a": content_a}
    proc = run_playbook(tmp_path / "play.yml", inventory="localhost,", extra_vars=extra, args=args)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc, recap(proc.stdout)["localhost"]


def test_check_mode_diff_then_write_then_nothing(tmp_path):
    proc, counts = write(tmp_path, '{"x": 1}', "--check", "--diff")
    assert counts["changed"] == 1 and not (tmp_path / "out").exists()
    assert '+{"x": 1}' in proc.stdout and "+# b" in proc.stdout, proc.stdout[-3000:]
    proc, counts = write(tmp_path, '{"x": 1}')
    assert counts["changed"] == 1 and (tmp_path / "out" / "a.json").read_text() == '{"x": 1}'
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
    proc, counts = write(tmp_path, '{"x": 1}')
    assert counts["changed"] == 0
    proc, counts = write(tmp_path, '{"x": 2}', "--diff")
    assert counts["changed"] == 1 and '-{"x": 1}' in proc.stdout and "b.md" not in proc.stdout.split("TASK [Write them]")[1]
    assert yaml.safe_load((tmp_path / "out" / "a.json").read_text()) == {"x": 2}
