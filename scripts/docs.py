"""Writes what follows from the argument specs, the one definition of every input (make docs).

Sources: every entry point of roles/*/meta/argument_specs.yml and meta/environment_specs.yml
(the inputs of an environment that no role reads). Written from them:

- plugins/module_utils/inputs.py: INPUT_DEFAULTS, the inputs preflight and the cost model read,
  and INPUT_SPECS, their spec options as ArgumentSpecValidator takes them (preflight validates
  the variables a host sets against them before its own rules);
- the table between the inputs markers of each roles/*/README.md, of README.md (environment
  inputs and those every role shares) and of docs/preflight.md (preflight's defaults).

It fails when an input declared in several specs differs in type, elements, choices, required
or default, and `--check` fails when a written file is not what the specs say or a role's
defaults/main.yml disagrees with its spec (tests/unit/test_inputs_generated.py does the same).
"""

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT_SPEC = "meta/environment_specs.yml"
INPUTS_MODULE = "plugins/module_utils/inputs.py"
# Where preflight and the cost model live; a spec'd name they quote is an input they read.
READER_GLOBS = ("plugins/module_utils/preflight.py", "plugins/module_utils/preflight/*.py", "plugins/module_utils/cost.py")
BEGIN, END = "<!-- inputs:begin (make docs writes this table from the argument specs) -->", "<!-- inputs:end -->"
# What a spec option may differ in between two specs that declare it.
AGREEING_KEYS = ("type", "elements", "choices", "required", "default")
# What INPUT_SPECS keeps of a spec option: what ArgumentSpecValidator checks a value with.
VALIDATED_KEYS = ("type", "elements", "choices", "required", "default")

# Preflight's reading of an input every role requires: an unset aws_region is checked and priced
# as us-east-1 (the shipped inventories set it). The roles themselves still require it.
PREFLIGHT_ASSUMES = {"aws_region": "us-east-1"}


class SpecError(Exception):
    """The specs contradict each other or the files they govern."""


def is_template(value):
    return isinstance(value, str) and "{{" in value


def load_specs(root=ROOT):
    """[(scope, entry point, spec)] in a stable order: the environment, then the roles by name."""
    paths = [(root / ENVIRONMENT_SPEC, "environment")] if (root / ENVIRONMENT_SPEC).is_file() else []
    paths += [(p, p.parent.parent.name) for p in sorted(root.glob("roles/*/meta/argument_specs.yml"))]
    specs = []
    for path, scope in paths:
        for entry, spec in ((yaml.safe_load(path.read_text()) or {}).get("argument_specs") or {}).items():
            specs.append((scope, entry, spec or {}))
    return specs


def collect(specs):
    """{name: {"option": spec option, "where": [(scope, entry point)]}}; SpecError on disagreement."""
    variables = {}
    for scope, entry, spec in specs:
        for name, option in (spec.get("options") or {}).items():
            known = variables.setdefault(name, {"option": option, "where": []})
            for key in AGREEING_KEYS:
                if known["option"].get(key) != option.get(key):
                    first = "%s:%s" % known["where"][0]
                    raise SpecError("%s: %s says %s=%r but %s:%s says %r" % (name, first, key, known["option"].get(key), scope, entry, option.get(key)))
            known["where"].append((scope, entry))
    return variables


def scopes_of(info):
    return sorted({scope for scope, dummy in info["where"]})


def constant_default(option):
    """The spec default as preflight sees it: None when absent or a template."""
    value = option.get("default")
    return None if is_template(value) else value


def read_by_preflight(root, variables):
    """The spec'd names quoted in preflight's or the cost model's source, in spec order."""
    text = "".join(p.read_text() for pattern in READER_GLOBS for p in sorted(root.glob(pattern)))
    quoted = set(re.findall(r"[\"']([a-z][a-z0-9_]*)[\"']", text))
    return [name for name in variables if name in quoted]


# --- Rendering ------------------------------------------------------------------------------


def py_literal(value):
    """A Python literal in ruff's style (double quotes) of a YAML value."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[%s]" % ", ".join(py_literal(v) for v in value)
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (py_literal(k), py_literal(v)) for k, v in value.items())
    raise SpecError("cannot write %r as a Python literal" % (value,))


def validator_option(option):
    """A spec option reduced to what ArgumentSpecValidator checks: the type (str when the spec
    omits it, as Ansible reads it), elements, choices, required and a constant default."""
    out = {"type": option.get("type", "str")}
    for key in VALIDATED_KEYS[1:]:
        if key not in option or option[key] is None or (key == "required" and not option[key]):
            continue
        if key == "default" and is_template(option[key]):
            continue
        out[key] = option[key]
    return out


def render_inputs_module(root, variables):
    names = read_by_preflight(root, variables)
    lines = [
        "# -*- coding: utf-8 -*-",
        "# Copyright: bluegreen.migration contributors",
        "# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)",
        "",
        '"""The inputs of an environment that preflight and the cost model read: defaults and specs.',
        "",
        "Generated by scripts/docs.py (make docs) from the argument specs (roles/*/meta/argument_specs.yml",
        "and meta/environment_specs.yml): do not edit, change the spec and regenerate. It holds every spec'd",
        "input quoted in preflight's or the cost model's source, with the spec default; None when the spec",
        "has none (required, or unset means off) or when it is a template (the role's defaults/main.yml",
        "fills it in a play). INPUT_SPECS holds the same inputs' spec options as ArgumentSpecValidator takes",
        "them (type, elements, choices, required, constant default), for preflight's spec rule. Plain",
        "literals, so that modules import them without reading YAML.",
        '"""',
        "",
        "from __future__ import absolute_import, division, print_function",
        "",
        "__metaclass__ = type",
        "",
        "INPUT_DEFAULTS = {",
    ]
    scope = None
    for name in names:
        info = variables[name]
        where = "shared by several roles" if len(scopes_of(info)) > 1 else scopes_of(info)[0]
        if where != scope:
            lines.append("    # %s" % where)
            scope = where
        if name in PREFLIGHT_ASSUMES:
            lines.append("    %s: %s,  # assumed by preflight (scripts/docs.py PREFLIGHT_ASSUMES)" % (py_literal(name), py_literal(PREFLIGHT_ASSUMES[name])))
        else:
            lines.append("    %s: %s," % (py_literal(name), py_literal(constant_default(info["option"]))))
    lines += ["}", "", "INPUT_SPECS = {"]
    for name in names:
        lines.append("    %s: %s," % (py_literal(name), py_literal(validator_option(variables[name]["option"]))))
    lines.append("}")
    return "\n".join(lines) + "\n"


def markdown(text):
    """Ansible doc markup (C(), O(), V(), I(), M()) as Markdown code; pipes escaped for tables."""
    text = re.sub(r"\b[COVIM]\(([^()]*)\)", r"`\1`", text)
    return text.replace("|", "\\|")


def description(option):
    text = option.get("description") or ""
    text = " ".join(text) if isinstance(text, list) else text
    if option.get("choices"):
        text += " One of %s." % ", ".join("`%s`" % c for c in option["choices"])
    return markdown(" ".join(text.split()))


def default_cell(option):
    if option.get("required"):
        return "(required)"
    if "default" not in option or option["default"] is None:
        return ""
    value = option["default"]
    shown = yaml.safe_dump(value, default_flow_style=True, width=10000).strip()
    shown = shown[: -len("...")].strip() if shown.endswith("...") else shown
    return "`%s`" % shown.replace("|", "\\|")


def type_cell(option):
    kind = option.get("type", "str")
    return "%s of %s" % (kind, option["elements"]) if option.get("elements") else kind


def table(rows, with_scope=False):
    head = "| Variable | Type | Default | Description |" if not with_scope else "| Variable | Type | Default | Read by | Description |"
    out = [head, "|" + " --- |" * (5 if with_scope else 4)]
    for name, option, scope in rows:
        cells = ["`%s`" % name, type_cell(option), default_cell(option)] + ([scope] if with_scope else []) + [description(option)]
        out.append("| %s |" % " | ".join(cells))
    return out


def render_role_table(role, specs):
    entries = [(entry, spec) for scope, entry, spec in specs if scope == role]
    lines = []
    shown = {}  # entry point -> its options, to name the one an entry point shares them with
    for entry, spec in entries:
        options = spec.get("options") or {}
        same = next((other for other, known in shown.items() if known == options), None)
        if len(entries) > 1:
            how = "" if entry == "main" else " (`tasks_from: %s.yml`)" % entry
            lines += ["", "Entry point `%s`%s: %s" % (entry, how, markdown(spec.get("short_description", ""))), ""]
            if same:
                lines += ["The variables of entry point `%s`." % same]
                continue
        shown[entry] = options
        lines += table([(name, option, None) for name, option in options.items()])
    return lines


def render_top_table(variables):
    rows = []
    for name, info in variables.items():
        scopes = scopes_of(info)
        if scopes != ["environment"] and len(scopes) < 2:
            continue
        readers = "preflight" if scopes == ["environment"] else ", ".join(scopes)
        rows.append((name, info["option"], readers))
    return table(rows, with_scope=True)


def render_preflight_table(root, variables):
    out = ["| Variable | Default | Defined in |", "| --- | --- | --- |"]
    for name in read_by_preflight(root, variables):
        info = variables[name]
        scopes = scopes_of(info)
        if scopes == ["environment"]:
            home = "`%s`" % ENVIRONMENT_SPEC
        else:
            home = ", ".join("`roles/%s`" % s for s in scopes if s != "environment")
        default = "`%s` (assumed by preflight)" % PREFLIGHT_ASSUMES[name] if name in PREFLIGHT_ASSUMES else default_cell(info["option"]) or "none"
        out.append("| `%s` | %s | %s |" % (name, default, home))
    return out


def replace_section(path, text, lines):
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise SpecError("%s: needs one %s ... %s section for the inputs table" % (path, BEGIN, END))
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + "\n".join(lines) + "\n" + text[stop:]


def render(root=ROOT, specs=None):
    """{path relative to root: the text make docs writes there}."""
    specs = load_specs(root) if specs is None else specs
    variables = collect(specs)
    out = {INPUTS_MODULE: render_inputs_module(root, variables)}
    for role in sorted({scope for scope, dummy, dummy2 in specs if scope != "environment"}):
        readme = "roles/%s/README.md" % role
        if (root / readme).is_file():
            out[readme] = replace_section(readme, (root / readme).read_text(), render_role_table(role, specs))
    out["README.md"] = replace_section("README.md", (root / "README.md").read_text(), render_top_table(variables))
    out["docs/preflight.md"] = replace_section("docs/preflight.md", (root / "docs/preflight.md").read_text(), render_preflight_table(root, variables))
    return out


# --- defaults/main.yml against the spec ------------------------------------------------------


def empty_of(option):
    """The value of the spec default that means "not given" (the role then discovers it)."""
    return {"list": [], "dict": {}, "str": "", "path": "", "raw": None}.get(option.get("type", "str"))


def defaults_mismatches(root=ROOT, specs=None):
    """Every disagreement between a role's defaults/main.yml and its spec, as sentences."""
    specs = load_specs(root) if specs is None else specs
    variables = collect(specs)
    problems = []
    for role in sorted({scope for scope, dummy, dummy2 in specs if scope != "environment"}):
        path = root / "roles" / role / "defaults" / "main.yml"
        defaults = (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}
        options = {}
        for scope, _dummy, spec in specs:
            if scope == role:
                options.update(spec.get("options") or {})
        for name, value in defaults.items():
            option = options.get(name)
            if option is None:
                problems.append("roles/%s: %s is in defaults/main.yml but in no entry point of its spec" % (role, name))
            elif is_template(value):
                # A template default is documented in the description; the spec keeps the "not
                # given" value its type has, or none.
                if option.get("default") not in (None, empty_of(option)):
                    problems.append("roles/%s: %s is a template in defaults/main.yml, the spec default %r is not empty" % (role, name, option["default"]))
            elif "default" not in option or option["default"] != value or type(option["default"]) is not type(value):
                problems.append("roles/%s: %s is %r in defaults/main.yml but %r in the spec" % (role, name, value, option.get("default", "(no default)")))
        for name, option in options.items():
            shared = len(scopes_of(variables[name])) > 1
            if "default" in option and name not in defaults and not shared:
                problems.append("roles/%s: %s has a spec default but no defaults/main.yml entry" % (role, name))
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail when a file is not what the specs say")
    args = parser.parse_args(argv)
    try:
        rendered = render(ROOT)
        problems = defaults_mismatches(ROOT)
    except SpecError as e:
        print("docs: %s" % e, file=sys.stderr)
        return 1
    stale = [path for path, text in rendered.items() if (ROOT / path).read_text() != text]
    if not args.check:
        for path in stale:
            (ROOT / path).write_text(rendered[path])
            print("docs: wrote %s" % path)
        stale = []
    for path in stale:
        print("docs: %s is not what the specs say (run make docs)" % path, file=sys.stderr)
    for problem in problems:
        print("docs: %s" % problem, file=sys.stderr)
    return 1 if stale or problems else 0


if __name__ == "__main__":
    sys.exit(main())
