"""The AWX configuration as data (awx/): every survey validates against AWX's survey_spec schema
and AWX's own rules on top of it, every job template points at a playbook of the project that
uses the survey's variables, and the release workflow is a sane graph: its nodes run templates
that exist, there is no cycle, the happy path is preflight -> deploy -> expand -> rollout ->
contract, a failed rollout leads to rollback and a failed expand to nothing."""

import json
import re
from collections import deque

import jsonschema
import pytest
import yaml

from tests.harness.aws import ROOT, recap, run_playbook

AWX = ROOT / "awx"
SURVEY_SCHEMA = json.loads((ROOT / "tests" / "unit" / "awx" / "survey_spec.schema.json").read_text())
CONTROLLER = yaml.safe_load((AWX / "vars" / "controller.yml").read_text())
JOB_TEMPLATES = yaml.safe_load((AWX / "vars" / "job_templates.yml").read_text())["awx_job_templates"]
WORKFLOWS = yaml.safe_load((AWX / "vars" / "workflows.yml").read_text())["awx_workflows"]
SURVEYS = {path.stem: json.loads(path.read_text()) for path in sorted((AWX / "surveys").glob("*.json"))}
TEMPLATES = {jt["name"]: jt for jt in JOB_TEMPLATES}

# The shape awx.awx.workflow_job_template takes in workflow_nodes (its documented suboptions):
# `related` must carry all four lists, even when empty.
EDGE_SCHEMA = {"type": "object", "required": ["identifier"], "additionalProperties": False, "properties": {"identifier": {"type": "string"}}}
NODE_SCHEMA = {
    "type": "object",
    "required": ["identifier", "unified_job_template", "related"],
    "additionalProperties": False,
    "properties": {
        "identifier": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "unified_job_template": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["name", "type", "organization"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string"},
                        "type": {"enum": ["job_template", "workflow_job_template", "project", "inventory_source"]},
                        "organization": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
                    },
                },
                # An approval node: AWX creates its approval template from these, in no organization.
                {
                    "type": "object",
                    "required": ["name", "type", "timeout"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string"},
                        "type": {"const": "workflow_approval"},
                        "description": {"type": "string"},
                        "timeout": {"type": "integer", "minimum": 1},
                    },
                },
            ],
        },
        "extra_data": {"type": "object"},
        "job_slice_count": {"type": "integer", "minimum": 1},
        "all_parents_must_converge": {"type": "boolean"},
        "related": {
            "type": "object",
            "required": ["success_nodes", "failure_nodes", "always_nodes", "credentials"],
            "additionalProperties": False,
            "properties": {
                edge: {"type": "array", "items": EDGE_SCHEMA}
                for edge in ("success_nodes", "failure_nodes", "always_nodes")
            }
            | {"credentials": {"type": "array"}},
        },
    },
}


def survey_rule_errors(survey):
    """AWX's checks on a survey beyond the JSON shape (what its survey_spec endpoint refuses)."""
    errors = []
    variables = [q["variable"] for q in survey["spec"]]
    errors += [f"variable {v} asked twice" for v in sorted({v for v in variables if variables.count(v) > 1})]
    for q in survey["spec"]:
        name, default = q["variable"], q.get("default")
        low, high = q.get("min"), q.get("max")
        if low is not None and high is not None and low > high:
            errors.append(f"{name}: min {low} > max {high}")
        if q["type"] in ("multiplechoice", "multiselect"):
            choices = q["choices"] if isinstance(q["choices"], list) else q["choices"].splitlines()
            picked = default if isinstance(default, list) else [d for d in str(default or "").splitlines() if d]
            if q["type"] == "multiplechoice" and len(picked) > 1:
                errors.append(f"{name}: multiplechoice default picks {len(picked)} choices")
            errors += [f"{name}: default {d!r} is not a choice" for d in picked if d not in choices]
        elif q["type"] in ("integer", "float") and default not in (None, ""):
            if (low is not None and default < low) or (high is not None and default > high):
                errors.append(f"{name}: default {default} outside [{low}, {high}]")
        elif q["type"] in ("text", "textarea", "password") and default:
            if (low is not None and len(default) < low) or (high is not None and len(default) > high):
                errors.append(f"{name}: default length {len(default)} outside [{low}, {high}]")
        if q["required"] and q["type"] in ("text", "textarea", "password") and low == 0:
            errors.append(f"{name}: required text with min 0 accepts an empty answer")
    return errors


def survey(name):
    return SURVEYS[name]


def question(survey_name, variable):
    matches = [q for q in survey(survey_name)["spec"] if q["variable"] == variable]
    assert len(matches) == 1, f"survey {survey_name} does not ask {variable}"
    return matches[0]


# --- Surveys ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SURVEYS))
def test_survey_valid_for_awx(name):
    jsonschema.validate(SURVEYS[name], SURVEY_SCHEMA)
    assert survey_rule_errors(SURVEYS[name]) == []


def test_schema_and_rules_refuse_what_awx_refuses():
    choice = {"question_name": "q", "variable": "v", "type": "multiplechoice", "required": True, "choices": ["a", "b"], "default": "a"}
    good = {"name": "n", "description": "d", "spec": [choice]}
    jsonschema.validate(good, SURVEY_SCHEMA)
    bad_shapes = [
        {**good, "spec": []},
        {**good, "spec": [{**good["spec"][0], "type": "dropdown"}]},
        {**good, "spec": [{k: v for k, v in good["spec"][0].items() if k != "choices"}]},
        {**good, "spec": [{**good["spec"][0], "variable": "1bad-name"}]},
        {**good, "spec": [{"question_name": "n", "variable": "n", "type": "integer", "required": True, "default": "5"}]},
        {**good, "spec": [{"question_name": "t", "variable": "t", "type": "text", "required": True, "choices": ["x"]}]},
        {k: v for k, v in good.items() if k != "description"},
    ]
    for bad in bad_shapes:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SURVEY_SCHEMA)
    assert survey_rule_errors({**good, "spec": [{**good["spec"][0], "default": "c"}]}) == ["v: default 'c' is not a choice"]
    assert survey_rule_errors({**good, "spec": good["spec"] * 2}) == ["variable v asked twice"]
    steps = {"question_name": "s", "variable": "s", "type": "integer", "required": True, "default": 0, "min": 1, "max": 5}
    assert survey_rule_errors({**good, "spec": [steps]}) == ["s: default 0 outside [1, 5]"]


def test_rollout_survey_asks_image_and_steps():
    image = question("rollout", "rollout_image")
    assert image["required"] and image["type"] == "text" and image["default"] == "" and image["min"] >= 1
    # A list, as preflight and rollout.yml take it: AWX passes a multiselect answer as a list of
    # the chosen strings (a text answer would reach preflight as one string and be refused).
    for name in ("rollout", "release"):
        steps = question(name, "rollout_steps")
        assert steps["required"] and steps["type"] == "multiselect"
        assert [int(s) for s in steps["default"].splitlines()] == [10, 50, 100]
        assert "100" in steps["choices"] and all(1 <= int(c) <= 100 for c in steps["choices"])
        assert [int(c) for c in steps["choices"]] == sorted(int(c) for c in steps["choices"])
    assert question("release", "rollout_image")["required"]


def awx_answers(survey_spec, typed):
    """The extra vars AWX passes for a survey: the typed answers, else the defaults, a multiselect
    as a list of the chosen strings, an integer as an int."""
    answers = {}
    for q in survey_spec["spec"]:
        value = typed.get(q["variable"], q.get("default"))
        if q["type"] == "multiselect" and isinstance(value, str):
            value = [v for v in value.splitlines() if v]
        answers[q["variable"]] = value
    return answers


def test_survey_answers_pass_preflight_as_awx_sends_them():
    """Every survey answer of the release workflow reaches every node as extra vars: preflight
    (first node, and first task of site.yml and rollout.yml) must take them as they come."""
    answers = {}
    for name in ("release", "rollout", "migrate"):
        answers |= awx_answers(survey(name), {"rollout_image": "registry.example.com/app:1.4.2"})
    assert answers["rollout_steps"] == ["10", "50", "100"]
    proc = run_playbook("playbooks/preflight.yml", "inventories/dev", extra_vars=answers)
    assert proc.returncode == 0 and recap(proc.stdout)["dev"]["failed"] == 0, proc.stdout[-3000:]
    # What a text question would send instead (one string) is refused before any AWS call.
    refused = run_playbook("playbooks/preflight.yml", "inventories/dev", extra_vars=answers | {"rollout_steps": "10,50,100"})
    assert refused.returncode != 0 and "rollout_steps must be a list, not the string '10,50,100'" in refused.stdout


def test_teardown_survey_asks_for_the_suffix_with_no_default():
    confirm = question("teardown", "teardown_confirm")
    assert confirm["required"] and confirm["type"] == "text"
    assert confirm["default"] == "" and confirm["min"] >= 1
    # Room for the suffixes of a sliced teardown over many environments (32 characters each).
    assert confirm["max"] >= 32 * 16


def test_migrate_survey_is_a_choice_of_phase():
    phase = question("migrate", "migrate_phase")
    assert phase["type"] == "multiplechoice" and phase["required"]
    assert phase["choices"] == ["expand", "contract"] and phase["default"] == "expand"


# --- Job templates ---------------------------------------------------------------------------


def test_job_templates_cover_every_operation_and_survey():
    playbooks = {jt["playbook"] for jt in JOB_TEMPLATES}
    operations = ("preflight", "plan", "rollout", "rollback", "migrate", "status", "teardown")
    assert {"site.yml"} | {f"playbooks/{op}.yml" for op in operations} <= playbooks
    assert len(TEMPLATES) == len(JOB_TEMPLATES), "job template names must be unique"
    used = {jt["survey"] for jt in JOB_TEMPLATES if "survey" in jt} | {wf["survey"] for wf in WORKFLOWS if "survey" in wf}
    assert used == set(SURVEYS), "every survey file is used and every survey used exists"
    teardown = next(jt for jt in JOB_TEMPLATES if jt["playbook"] == "playbooks/teardown.yml")
    assert teardown["survey"] == "teardown" and teardown["inventory"] == "", "teardown has no default inventory"


CHANGES_AN_ENVIRONMENT = ("site.yml", "playbooks/rollout.yml", "playbooks/rollback.yml", "playbooks/migrate.yml", "playbooks/teardown.yml")


@pytest.mark.parametrize("playbook", CHANGES_AN_ENVIRONMENT)
def test_every_template_that_changes_an_environment_can_break_its_lock(playbook):
    """A job killed with its node leaves its lock until the TTL: the operator must be able to
    take it over from the template, a choice that defaults to false."""
    for jt in (jt for jt in JOB_TEMPLATES if jt["playbook"] == playbook):
        asked = question(jt["survey"], "bluegreen_lock_break") if "survey" in jt else None
        assert asked is not None and asked["default"] == "false" and sorted(asked["choices"]) == ["false", "true"], jt["name"]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_job_template_playbook_exists_and_uses_survey_variables(name):
    jt = TEMPLATES[name]
    playbook = ROOT / jt["playbook"]
    assert playbook.is_file(), f"{name}: {jt['playbook']} is not in the project"
    plays = yaml.safe_load(playbook.read_text())
    assert isinstance(plays, list) and plays, f"{jt['playbook']} is not a playbook"
    if "survey" in jt:
        # What the playbook reads: its own text and the inputs of the role entry points it includes.
        text = playbook.read_text() + " ".join(entry_point_inputs(playbook_plays(playbook)))
        for q in survey(jt["survey"])["spec"]:
            assert re.search(rf"\b{q['variable']}\b", text), f"{jt['playbook']} never reads {q['variable']} (survey {jt['survey']})"


def entry_point_inputs(plays):
    """The options of every bluegreen.migration role entry point the plays include, in blocks
    (and their rescue/always) too."""
    names = []
    todo = [task for play in plays for section in ("pre_tasks", "tasks", "post_tasks") for task in play.get(section) or []]
    while todo:
        task = todo.pop()
        for section in ("block", "rescue", "always"):
            todo += task.get(section) or []
        include = task.get("ansible.builtin.include_role") or task.get("ansible.builtin.import_role") or {}
        role = str(include.get("name", "")).removeprefix("bluegreen.migration.")
        if role:
            specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
            # A task file that is no entry point (network's egress.yml) reads its role's inputs.
            entry = specs.get(include.get("tasks_from", "main").removesuffix(".yml"), specs["main"])
            names += list(entry["options"])
    return names


def playbook_plays(path):
    """The plays of a playbook, those of the playbooks it imports included."""
    plays = []
    for play in yaml.safe_load(path.read_text()):
        imported = play.get("ansible.builtin.import_playbook")
        plays += playbook_plays(path.parent / imported) if imported else [play]
    return plays


def test_controller_data():
    assert CONTROLLER["awx_aws_credential"]["credential_type"] == "Amazon Web Services"
    envs = {e["name"]: e["source_path"] for e in CONTROLLER["awx_environments"]}
    assert set(envs) == {"dev", "staging", "prod"}
    for env, path in envs.items():
        hosts = yaml.safe_load((ROOT / path).read_text())
        assert env in hosts["bluegreen_envs"]["hosts"], f"{path} does not define host {env}"
        assert (ROOT / path).parent.joinpath("group_vars", "bluegreen_envs.yml").is_file()
    assert CONTROLLER["awx_default_inventory"] in {f"bluegreen {e}" for e in envs}
    # The secret comes from the environment of the configure run, never from the file.
    assert "lookup('ansible.builtin.env'" in CONTROLLER["awx_aws_secret_access_key"]
    configure = (AWX / "configure.yml").read_text()
    assert "no_log: true" in configure.split("awx.awx.credential:", 1)[1].split("- name:", 1)[0]


# --- Workflow graph --------------------------------------------------------------------------


# Each workflow's path from the root along the success edges: (template, migrate_phase or rollout_resume).
HAPPY_PATHS = {
    "bluegreen release": [
        ("bluegreen preflight", None),
        ("bluegreen deploy", None),
        ("bluegreen migrate", "expand"),
        ("bluegreen rollout", None),
        ("bluegreen migrate", "contract"),
    ],
    "bluegreen gated rollout": [
        ("bluegreen preflight", None),
        ("bluegreen rollout", None),
        ("Approve the rest of the rollout", None),
        ("bluegreen rollout", "true"),
    ],
}


def edges(node, kind):
    return [e["identifier"] for e in node["related"][kind]]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[wf["name"] for wf in WORKFLOWS])
def test_workflow_graph(workflow):
    nodes = {n["identifier"]: n for n in workflow["workflow_nodes"]}
    assert len(nodes) == len(workflow["workflow_nodes"]), "node identifiers must be unique"
    for node in nodes.values():
        jsonschema.validate(node, NODE_SCHEMA)
        ujt = node["unified_job_template"]
        if ujt["type"] == "workflow_approval":
            # Nothing runs: denied or timed out is its failure edge.
            assert edges(node, "failure_nodes"), f"{node['identifier']}: a denied approval must lead somewhere (rollback)"
            continue
        assert ujt["type"] == "job_template" and ujt["name"] in TEMPLATES, f"{node['identifier']}: no job template {ujt['name']!r}"
        assert ujt["organization"]["name"] == CONTROLLER["awx_organization"]
        for kind in ("success_nodes", "failure_nodes", "always_nodes"):
            missing = set(edges(node, kind)) - set(nodes)
            assert not missing, f"{node['identifier']}.{kind} points at unknown nodes {missing}"
        # extra_data only reaches a job whose template asks for those variables (its survey).
        jt = TEMPLATES[ujt["name"]]
        asked = {q["variable"]: q for q in survey(jt["survey"])["spec"]} if "survey" in jt else {}
        for var, value in node.get("extra_data", {}).items():
            assert var in asked, f"{node['identifier']}: {ujt['name']} does not ask for {var}"
            if "choices" in asked[var]:
                assert value in asked[var]["choices"]
        # So does a job_slice_count prompt: AWX refuses it for a template that does not ask for it.
        if "job_slice_count" in node:
            assert jt.get("ask_job_slice_count") is True, f"{node['identifier']}: {ujt['name']} does not ask for job_slice_count"

    # No cycle (Kahn's algorithm over every kind of edge) and a single root.
    children = {i: edges(n, "success_nodes") + edges(n, "failure_nodes") + edges(n, "always_nodes") for i, n in nodes.items()}
    indegree = {i: 0 for i in nodes}
    for targets in children.values():
        for t in targets:
            indegree[t] += 1
    roots = [i for i, d in indegree.items() if d == 0]
    assert roots == ["preflight"]
    queue, seen = deque(roots), []
    while queue:
        current = queue.popleft()
        seen.append(current)
        for t in children[current]:
            indegree[t] -= 1
            if indegree[t] == 0:
                queue.append(t)
    assert len(seen) == len(nodes), f"cycle among {set(nodes) - set(seen)}"

    # The happy path, following success edges from the root.
    path, current = [], "preflight"
    while current:
        node = nodes[current]
        extra = node.get("extra_data", {})
        path.append((node["unified_job_template"]["name"], extra.get("migrate_phase") or extra.get("rollout_resume")))
        successors = edges(node, "success_nodes")
        assert len(successors) <= 1
        current = successors[0] if successors else None
    assert path == HAPPY_PATHS[workflow["name"]]

    # Failure paths: a rollout falls back to rollback; rollback is terminal and only reached on
    # failure. A failed expand moved no traffic: a rollback then would take the live release
    # back to the one before it.
    rollback = [i for i, n in nodes.items() if n["unified_job_template"]["name"] == "bluegreen rollback"]
    assert len(rollback) == 1
    for ident, node in nodes.items():
        phase = node.get("extra_data", {}).get("migrate_phase")
        if node["unified_job_template"]["name"] == "bluegreen rollout":
            assert edges(node, "failure_nodes") == rollback, f"{ident} must fail over to rollback"
        if phase == "expand":
            assert edges(node, "failure_nodes") == [], f"{ident} must not roll the live release back"
        assert rollback[0] not in edges(node, "success_nodes") + edges(node, "always_nodes")
    assert children[rollback[0]] == []
