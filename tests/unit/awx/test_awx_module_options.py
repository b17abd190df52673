"""awx/configure.yml passes the awx.awx modules only options they have, and the job templates
scale out as intended: deploy and teardown are sliced (and ask for the slice count at launch),
rollout runs one environment per job, every template allows simultaneous jobs (the environment
lock keeps two off one environment) and every template runs on the execution nodes' instance group.

Two views of configure.yml: its task text (every key written, even one that is omitted today)
and a real run of it with stand-ins for the awx.awx modules that record the arguments Ansible
hands them after templating (vars files, `default(...)`, `omit`), so the values AWX would get
are checked, not the Jinja that computes them."""

import json

import pytest
import yaml

from tests.harness.aws import ROOT, recap, run_playbook

AWX = ROOT / "awx"

# The options of awx.awx.job_template and awx.awx.workflow_job_template: the argument_spec of
# awx_collection/plugins/modules/job_template.py and workflow_job_template.py in ansible/awx at
# commit e21dd0a0933fd544d1fe2513c54fe41203775eb5 (24.6.1-145, 2024-10-23; the slicing, instance
# group and concurrency options match the awx.awx 24.6.1 job_template docs), plus the connection
# options every awx.awx module takes (ControllerModule.AUTH_ARGSPEC in
# plugins/module_utils/controller_api.py). Aliases left out: configure.yml writes the canonical
# names. ask_job_slice_count_on_launch appeared in awx.awx and AWX 21.7.0.
AUTH_OPTIONS = {
    "controller_host",
    "controller_username",
    "controller_password",
    "validate_certs",
    "request_timeout",
    "controller_oauthtoken",
    "controller_config_file",
}
JOB_TEMPLATE_OPTIONS = AUTH_OPTIONS | {
    "name", "new_name", "copy_from", "description", "organization", "job_type", "inventory",
    "project", "playbook", "credential", "vault_credential", "credentials",
    "execution_environment", "custom_virtualenv", "instance_groups", "forks", "limit",
    "verbosity", "extra_vars", "job_tags", "force_handlers", "skip_tags", "start_at_task",
    "timeout", "use_fact_cache", "host_config_key", "ask_diff_mode_on_launch",
    "ask_variables_on_launch", "ask_limit_on_launch", "ask_tags_on_launch",
    "ask_skip_tags_on_launch", "ask_job_type_on_launch", "ask_verbosity_on_launch",
    "ask_inventory_on_launch", "ask_credential_on_launch",
    "ask_execution_environment_on_launch", "ask_forks_on_launch",
    "ask_instance_groups_on_launch", "ask_job_slice_count_on_launch", "ask_labels_on_launch",
    "ask_timeout_on_launch", "survey_enabled", "survey_spec", "become_enabled", "diff_mode",
    "allow_simultaneous", "scm_branch", "ask_scm_branch_on_launch", "job_slice_count",
    "webhook_service", "webhook_credential", "labels", "notification_templates_started",
    "notification_templates_success", "notification_templates_error",
    "prevent_instance_group_fallback", "state",
}  # fmt: skip
WORKFLOW_JOB_TEMPLATE_OPTIONS = AUTH_OPTIONS | {
    "name", "new_name", "copy_from", "description", "extra_vars", "job_tags", "skip_tags",
    "organization", "survey_spec", "survey_enabled", "allow_simultaneous",
    "ask_variables_on_launch", "ask_labels_on_launch", "ask_tags_on_launch",
    "ask_skip_tags_on_launch", "inventory", "limit", "scm_branch", "ask_inventory_on_launch",
    "ask_scm_branch_on_launch", "ask_limit_on_launch", "webhook_service", "webhook_credential",
    "labels", "notification_templates_started", "notification_templates_success",
    "notification_templates_error", "notification_templates_approvals", "workflow_nodes",
    "destroy_current_nodes", "state",
}  # fmt: skip
MODULE_OPTIONS = {"awx.awx.job_template": JOB_TEMPLATE_OPTIONS, "awx.awx.workflow_job_template": WORKFLOW_JOB_TEMPLATE_OPTIONS}

# Stand-in for every awx.awx module configure.yml uses: an action plugin that appends the
# arguments it gets (templated, omitted ones removed) to a JSON-lines file and changes nothing.
STUB_ACTION = '''
import json
import os

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        with open(os.environ["AWX_STUB_RECORD"], "a", encoding="utf-8") as record:
            record.write(json.dumps({"action": self._task.action, "args": self._task.args}, default=str) + "\\n")
        return {"changed": False}
'''


def configure_tasks():
    return yaml.safe_load((AWX / "configure.yml").read_text())[0]["tasks"]


def awx_modules():
    return sorted({key for task in configure_tasks() for key in task if key.startswith("awx.awx.")})


def run_configure(tmp_path, extra_vars=None):
    """configure.yml with the awx.awx stand-ins: {module: [args of each call]}."""
    plugins = tmp_path / "ansible_collections" / "awx" / "awx" / "plugins" / "action"
    plugins.mkdir(parents=True)
    for module in awx_modules():
        (plugins / f"{module.rsplit('.', 1)[1]}.py").write_text(STUB_ACTION)
    record = tmp_path / "calls.jsonl"
    record.touch()
    env = {"ANSIBLE_COLLECTIONS_PATH": f"{tmp_path}:{ROOT / 'build' / 'collections'}", "AWX_STUB_RECORD": str(record)}
    proc = run_playbook("awx/configure.yml", extra_vars=extra_vars, env=env, timeout=300)
    assert proc.returncode == 0 and recap(proc.stdout)["localhost"]["failed"] == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    calls = {}
    for line in record.read_text().splitlines():
        call = json.loads(line)
        calls.setdefault(call["action"], []).append(call["args"])
    return calls


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    return run_configure(tmp_path_factory.mktemp("awx-default"))


def by_name(calls, module):
    return {args["name"]: args for args in calls[module]}


@pytest.mark.parametrize("module", sorted(MODULE_OPTIONS))
def test_configure_writes_only_module_options(module):
    tasks = [task for task in configure_tasks() if module in task]
    assert tasks, f"configure.yml has no {module} task"
    for task in tasks:
        unknown = set(task[module]) - MODULE_OPTIONS[module]
        assert not unknown, f"{task['name']}: {module} has no option {sorted(unknown)}"


def test_option_check_refuses_an_unknown_key():
    # The spellings of the survey answer and the UI label are not module options.
    assert {"slice_count", "job_slices", "concurrent_jobs"}.isdisjoint(JOB_TEMPLATE_OPTIONS)
    assert {"job_slice_count", "ask_job_slice_count_on_launch", "instance_groups", "allow_simultaneous"} <= JOB_TEMPLATE_OPTIONS


def test_rendered_arguments_are_module_options(configured):
    for module, options in MODULE_OPTIONS.items():
        assert configured.get(module), f"configure.yml never called {module}"
        for args in configured[module]:
            unknown = set(args) - options
            assert not unknown, f"{module} {args['name']}: no option {sorted(unknown)}"
    templates = configured["awx.awx.job_template"]
    assert len(templates) == len(yaml.safe_load((AWX / "vars" / "job_templates.yml").read_text())["awx_job_templates"])
    for args in templates:
        # The types the module's argument_spec declares (int, bool, list of str).
        assert isinstance(args["job_slice_count"], int) and not isinstance(args["job_slice_count"], bool) and args["job_slice_count"] >= 1, args["name"]
        assert isinstance(args["forks"], int) and not isinstance(args["forks"], bool) and args["forks"] >= 1, args["name"]
        for flag in ("allow_simultaneous", "ask_job_slice_count_on_launch", "ask_limit_on_launch"):
            assert isinstance(args[flag], bool), f"{args['name']}: {flag}={args[flag]!r}"
        assert args["instance_groups"] and all(isinstance(g, str) and g for g in args["instance_groups"])


def test_deploy_plan_and_teardown_slice_on_the_execution_group(configured):
    controller = yaml.safe_load((AWX / "vars" / "controller.yml").read_text())
    templates = by_name(configured, "awx.awx.job_template")
    deploy, teardown = templates["bluegreen deploy"], templates["bluegreen teardown"]
    assert deploy["job_slice_count"] > 1 and deploy["ask_job_slice_count_on_launch"] is True
    # The plan previews the deploy over the same environments, sliced the same way.
    plan = templates["bluegreen plan"]
    assert plan["job_slice_count"] == deploy["job_slice_count"] and plan["ask_job_slice_count_on_launch"] is True
    # Teardown confirms a list of suffixes (every host of a slice finds its own): sliced too.
    assert teardown["job_slice_count"] > 1 and teardown["ask_job_slice_count_on_launch"] is True
    for args in templates.values():
        assert args["instance_groups"] == controller["awx_instance_groups"] == ["execution"]
        assert args["forks"] == controller["awx_job_forks"]
        # One job per environment or per slice: every template asks for the inventory and the limit.
        assert args["ask_inventory_on_launch"] is True and args["ask_limit_on_launch"] is True
    unsliced = set(templates) - {"bluegreen deploy", "bluegreen plan", "bluegreen teardown"}
    assert all(templates[name]["job_slice_count"] == 1 for name in unsliced)
    assert not any(templates[name]["ask_job_slice_count_on_launch"] for name in unsliced)


def test_rollout_one_environment_per_job_with_simultaneous_jobs(configured):
    templates = by_name(configured, "awx.awx.job_template")
    rollout = templates["bluegreen rollout"]
    assert rollout["allow_simultaneous"] is True
    assert rollout["job_slice_count"] == 1 and rollout["ask_job_slice_count_on_launch"] is False
    assert rollout["ask_limit_on_launch"] is True
    # The environment lock keeps two jobs off one environment, so every template lets jobs of
    # different environments (or different slices) run at the same time.
    assert all(args["allow_simultaneous"] is True for args in templates.values()), {n: a["allow_simultaneous"] for n, a in templates.items()}


def test_release_deploys_unsliced(configured):
    """The release runs on its limit's environment; a deploy node sliced over the whole inventory
    would leave slices with no host, and they fail. Its job_slice_count prompt reaches AWX."""
    release = by_name(configured, "awx.awx.workflow_job_template")["bluegreen release"]
    deploy = next(n for n in release["workflow_nodes"] if n["identifier"] == "deploy")
    assert deploy["job_slice_count"] == 1


def test_slicing_variables_reach_awx(tmp_path):
    overrides = {"awx_deploy_job_slice_count": 6, "awx_teardown_job_slice_count": 2, "awx_instance_groups": ["big", "execution"], "awx_job_forks": 12}
    calls = run_configure(tmp_path, overrides)
    templates = by_name(calls, "awx.awx.job_template")
    assert templates["bluegreen deploy"]["job_slice_count"] == 6
    assert templates["bluegreen teardown"]["job_slice_count"] == 2
    assert templates["bluegreen status"]["instance_groups"] == ["big", "execution"]
    assert templates["bluegreen status"]["forks"] == 12
