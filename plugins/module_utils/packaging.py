# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller-side packaging of the migrator Lambda.

* classify every statement of every migration as expand or contract, from squawk's parse tree
  (statement kinds) and squawk's lint rules (JSON reporter): no regular expression looks at SQL;
* write the result to manifest.json, which the function reads at run time;
* build a deterministic zip (sorted entries, 1980-01-01 timestamps, 0644 modes) holding the
  migrator code, pg8000 and its pure-Python dependencies, the migrations and the manifest.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

MANIFEST_FORMAT = 1
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_MODE = 0o100644
MIGRATION_FILE = re.compile(r"^V(\d+)__([A-Za-z0-9_]+)\.sql$")
# One line of `squawk --debug parse`: indentation, node kind, byte range, optional token text.
TREE_LINE = re.compile(r'^( *)([A-Z_]+)@(\d+)\.\.(\d+)(?: (".*"))?$')

BREAKS_OLD_VERSION = "breaks-old-version"
BLOCKS_LIVE_TRAFFIC = "blocks-live-traffic"
ADVISORY = "advisory"

# squawk rules and what they mean for a blue-green switch. A rule not listed here (a newer
# squawk) counts as contract: it is safer to wait for the drain than to guess.
SQUAWK_RULES = {
    # The old version reads or writes something the statement removes, renames or tightens.
    "ban-drop-column": BREAKS_OLD_VERSION,
    "ban-drop-table": BREAKS_OLD_VERSION,
    "ban-drop-not-null": BREAKS_OLD_VERSION,
    "ban-drop-database": BREAKS_OLD_VERSION,
    "ban-drop-schema": BREAKS_OLD_VERSION,
    "ban-drop-view": BREAKS_OLD_VERSION,
    "ban-drop-function": BREAKS_OLD_VERSION,
    "ban-drop-type": BREAKS_OLD_VERSION,
    "ban-drop-sequence": BREAKS_OLD_VERSION,
    "ban-drop-domain": BREAKS_OLD_VERSION,
    "ban-drop-index": BREAKS_OLD_VERSION,
    "ban-drop-trigger": BREAKS_OLD_VERSION,
    "ban-drop-extension": BREAKS_OLD_VERSION,
    "ban-drop-constraint": BREAKS_OLD_VERSION,
    "ban-drop-default": BREAKS_OLD_VERSION,
    "ban-drop-generated-expression": BREAKS_OLD_VERSION,
    "ban-drop-policy": BREAKS_OLD_VERSION,
    "ban-truncate-cascade": BREAKS_OLD_VERSION,
    "ban-set-schema": BREAKS_OLD_VERSION,
    "ban-revoke": BREAKS_OLD_VERSION,
    "renaming-column": BREAKS_OLD_VERSION,
    "renaming-table": BREAKS_OLD_VERSION,
    "renaming-object": BREAKS_OLD_VERSION,
    "changing-column-type": BREAKS_OLD_VERSION,
    "adding-required-field": BREAKS_OLD_VERSION,
    "adding-not-nullable-field": BREAKS_OLD_VERSION,
    # Long ACCESS EXCLUSIVE / SHARE locks or rewrites of a table the old version is using.
    "adding-field-with-default": BLOCKS_LIVE_TRAFFIC,
    "adding-foreign-key-constraint": BLOCKS_LIVE_TRAFFIC,
    "adding-serial-primary-key-field": BLOCKS_LIVE_TRAFFIC,
    "constraint-missing-not-valid": BLOCKS_LIVE_TRAFFIC,
    "disallowed-unique-constraint": BLOCKS_LIVE_TRAFFIC,
    "require-concurrent-index-creation": BLOCKS_LIVE_TRAFFIC,
    "require-concurrent-index-deletion": BLOCKS_LIVE_TRAFFIC,
    "require-concurrent-reindex": BLOCKS_LIVE_TRAFFIC,
    "require-concurrent-partition-detach": BLOCKS_LIVE_TRAFFIC,
    # Style and robustness advice; the engine sets lock_timeout and wraps transactions itself.
    "prefer-robust-stmts": ADVISORY,
    "prefer-identity": ADVISORY,
    "prefer-bigint-over-int": ADVISORY,
    "prefer-bigint-over-smallint": ADVISORY,
    "prefer-text-field": ADVISORY,
    "prefer-timestamp-tz": ADVISORY,
    "prefer-repack": ADVISORY,
    "ban-char-field": ADVISORY,
    "require-lock-timeout": ADVISORY,
    "require-statement-timeout": ADVISORY,
    "require-timeout-settings": ADVISORY,
    "require-table-schema": ADVISORY,
    "require-enum-value-ordering": ADVISORY,
    "identifier-too-long": ADVISORY,
    "transaction-nesting": ADVISORY,
    "ban-uncommitted-transaction": ADVISORY,
    "ban-concurrent-index-creation-in-transaction": ADVISORY,
    "ban-create-domain-with-constraint": ADVISORY,
    "ban-alter-domain-with-add-constraint": ADVISORY,
    "unused-ignore": ADVISORY,
}
# Opt-in squawk rules that catch breaking changes the default set leaves out.
SQUAWK_INCLUDE = ("ban-drop-index", "ban-drop-type", "ban-drop-sequence", "ban-drop-trigger",
                  "ban-drop-extension", "renaming-object", "ban-revoke")

# Statement kinds (squawk parse-tree node names) and their phase when no rule fires.
EXPAND_KINDS = frozenset((
    "CREATE_TABLE", "CREATE_TABLE_AS", "CREATE_INDEX", "CREATE_VIEW", "CREATE_MATERIALIZED_VIEW", "CREATE_SEQUENCE",
    "CREATE_FUNCTION", "CREATE_PROCEDURE", "CREATE_TYPE", "CREATE_DOMAIN", "CREATE_EXTENSION", "CREATE_SCHEMA",
    "CREATE_TRIGGER", "COMMENT_ON", "INSERT", "UPDATE", "DELETE", "SELECT", "SET", "RESET", "GRANT", "ANALYZE",
    "ALTER_TYPE", "ALTER_SEQUENCE", "REFRESH", "REINDEX", "VACUUM",
))
# ALTER TABLE actions that keep the old version working.
EXPAND_ALTER_ACTIONS = frozenset((
    "ADD_COLUMN", "ADD_CONSTRAINT", "VALIDATE_CONSTRAINT", "ALTER_COLUMN.SET_DEFAULT", "ALTER_COLUMN.SET_STATISTICS",
    "ALTER_COLUMN.SET_STORAGE", "ALTER_COLUMN.SET_OPTIONS", "ALTER_COLUMN.RESET_OPTIONS", "SET_OPTIONS", "RESET_OPTIONS",
))
# Why the remaining known kinds are contract (anything unknown is contract too).
CONTRACT_KINDS = {
    "ALTER_TABLE.ALTER_COLUMN.SET_NOT_NULL": "rows written by the old version without this column would be rejected",
    "ALTER_TABLE.ALTER_COLUMN.DROP_NOT_NULL": "the old version may rely on the column never being NULL",
    "ALTER_TABLE.ALTER_COLUMN.SET_TYPE": "the old version expects the current column type",
    "ALTER_TABLE.ALTER_COLUMN.DROP_DEFAULT": "the old version may rely on the default when it omits the column",
    "ALTER_TABLE.DROP_COLUMN": "the old version still reads or writes the column",
    "ALTER_TABLE.RENAME_COLUMN": "the old version uses the current column name",
    "ALTER_TABLE.TABLE_RENAME_TO": "the old version uses the current table name",
    "ALTER_TABLE.DROP_CONSTRAINT": "the old version may rely on the constraint (ON CONFLICT, integrity)",
    "ALTER_TABLE.SET_SCHEMA": "the old version uses the current schema",
    "TRUNCATE": "removes rows the old version serves",
    "DO": "a procedural block cannot be inspected statement by statement",
}
# Statements PostgreSQL refuses inside a transaction block, keyed as below.
NON_TRANSACTIONAL = frozenset((
    "CREATE_INDEX CONCURRENTLY", "DROP_INDEX CONCURRENTLY", "REINDEX CONCURRENTLY", "VACUUM", "CREATE_DATABASE",
    "DROP_DATABASE", "ALTER_SYSTEM", "CREATE_TABLESPACE", "DROP_TABLESPACE",
))
# Statements allowed beside non-transactional ones in a migration run in autocommit mode.
SESSION_KINDS = frozenset(("SET", "RESET"))
TRIVIA = frozenset(("WHITESPACE", "COMMENT", "EMPTY_STMT", "SEMICOLON"))


class PackagingError(Exception):
    """The migrations or the code cannot be packaged; the message says which file and why."""


# -- squawk --------------------------------------------------------------------------
def find_squawk(path=None):
    """The squawk binary: the given path, then PATH, then beside the running Python."""
    candidates = [path] if path else [shutil.which("squawk"), os.path.join(os.path.dirname(sys.executable), "squawk")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise PackagingError("squawk not found (pip install squawk-cli on the controller, or set squawk_path)")


# Packaging also runs outside a module (tests, benchmarks), where there is no
# module.run_command to call; these are plain, argument-list, time-limited calls.
def _squawk(squawk, args, path):
    proc = subprocess.run(  # pylint: disable=ansible-bad-function
        [squawk] + list(args) + [path], capture_output=True, timeout=120, check=False
    )
    return proc


def squawk_version(squawk):
    proc = subprocess.run(  # pylint: disable=ansible-bad-function
        [squawk, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return proc.stdout.strip().split()[-1] if proc.returncode == 0 and proc.stdout.strip() else "unknown"


class Node:
    __slots__ = ("kind", "start", "end", "token", "children")

    def __init__(self, kind, start, end, token):
        self.kind, self.start, self.end, self.token, self.children = kind, start, end, token, []

    def child_kinds(self):
        return [c.kind for c in self.children]

    def find(self, kind):
        for child in self.children:
            if child.kind == kind:
                return child
            found = child.find(kind)
            if found is not None:
                return found
        return None


def parse_tree(text):
    """squawk's `--debug parse` output as a tree of Nodes (byte offsets into the file)."""
    root = None
    stack = []
    for line in text.splitlines():
        match = TREE_LINE.match(line)
        if not match:
            continue
        depth = len(match.group(1)) // 2
        node = Node(match.group(2), int(match.group(3)), int(match.group(4)), match.group(5) is not None)
        if root is None:
            root, stack = node, [node]
            continue
        del stack[depth:]
        if stack:
            stack[-1].children.append(node)
        stack.append(node)
    if root is None:
        raise PackagingError("squawk printed no parse tree")
    return root


def statement_key(node):
    """The statement kind: the node name, its ALTER TABLE actions, CONCURRENTLY when present."""
    if "CONCURRENTLY_KW" in node.child_kinds() or (node.kind == "REINDEX" and node.find("CONCURRENTLY_KW")):
        return [f"{node.kind} CONCURRENTLY"]
    if node.kind != "ALTER_TABLE":
        return [node.kind]
    actions = []
    for child in node.children:
        if child.token or child.kind in ("TABLE_RELATION_NAME", "RELATION_NAME", "IF_EXISTS", "ONLY") or child.kind in TRIVIA:
            continue
        key = child.kind
        if child.kind == "ALTER_COLUMN":
            sub = [c.kind for c in child.children
                   if not c.token and not c.kind.endswith(("_REF", "NAME")) and c.kind not in TRIVIA]
            key = "ALTER_COLUMN." + (sub[0] if sub else "UNKNOWN")
        actions.append("ALTER_TABLE." + key)
    return actions or ["ALTER_TABLE.UNKNOWN"]


def _kind_reasons(keys):
    reasons = []
    for key in keys:
        if key in EXPAND_KINDS or key.split(" ")[0] in EXPAND_KINDS:
            continue
        if key.startswith("ALTER_TABLE.") and key[len("ALTER_TABLE."):] in EXPAND_ALTER_ACTIONS:
            continue
        message = CONTRACT_KINDS.get(key, "statement kind not known to be safe while the old version is live")
        reasons.append({"rule": f"statement-kind:{key}", "source": "statement-kind", "category": BREAKS_OLD_VERSION,
                        "message": message})
    return reasons


def _offset(line_starts, data, line, column):
    """Byte offset of a squawk (0-based line, character column) position."""
    line = min(max(line, 0), len(line_starts) - 1)
    start = line_starts[line]
    end = line_starts[line + 1] if line + 1 < len(line_starts) else len(data)
    text = data[start:end].decode("utf-8", "replace")
    return start + len(text[:column].encode("utf-8"))


def classify_file(path, squawk):
    """Statements of one migration file with their kind, phase and squawk findings."""
    fname = os.path.basename(path)
    with open(path, "rb") as handle:
        data = handle.read()
    parsed = _squawk(squawk, ["--debug", "parse"], path)
    if parsed.returncode != 0:
        raise PackagingError(f"{fname}: squawk could not parse it: {parsed.stderr.decode('utf-8', 'replace').strip()}")
    root = parse_tree(parsed.stdout.decode("utf-8"))
    nodes = [n for n in root.children if n.kind not in TRIVIA]
    errors = [n for n in nodes if n.kind == "ERROR"]
    if errors:
        line = data[:errors[0].start].count(b"\n") + 1
        raise PackagingError(f"{fname}: syntax error at line {line}")
    statements = []
    for node in nodes:
        keys = statement_key(node)
        stmt = {
            "start": node.start,
            "end": node.end,
            "line": data[:node.start].count(b"\n") + 1,
            "kind": ", ".join(keys),
            "transactional": not any(k in NON_TRANSACTIONAL for k in keys),
            "rules": [],
            "reasons": _kind_reasons(keys),
        }
        if keys == ["CREATE_INDEX CONCURRENTLY"]:
            index = node.find("INDEX") if "INDEX" in node.child_kinds() else None
            if index is None:
                raise PackagingError(f"{fname}: line {stmt['line']}: name the concurrently created index, so a failed "
                                     "attempt (an INVALID index) can be found and dropped before a retry")
            stmt["index_name"] = data[index.start:index.end].decode("utf-8")
            # The index is created in its table's schema: a rerun finds it there, search_path or not.
            table = node.find("TABLE_NAME_REF")
            if table is not None:
                stmt["index_table"] = data[table.start:table.end].decode("utf-8")
        elif keys == ["DROP_INDEX CONCURRENTLY"]:
            index = node.find("INDEX_REF")
            if index is not None:
                stmt["drop_index"] = data[index.start:index.end].decode("utf-8")
        elif keys == ["REINDEX CONCURRENTLY"]:
            # A failed concurrent rebuild leaves an INVALID <index>_ccnew (or _ccold) behind.
            targets = (("REINDEX_TARGET_INDEX", "INDEX_REF", "reindex_index"), ("REINDEX_TARGET_TABLE", "TABLE_NAME_REF", "reindex_table"),
                       ("REINDEX_TARGET_SCHEMA", "SCHEMA_REF", "reindex_schema"))
            for target, ref, key in targets:
                found = node.find(target)
                name = found.find(ref) if found is not None else None
                if name is not None:
                    stmt[key] = data[name.start:name.end].decode("utf-8")
            if node.find("REINDEX_TARGET_DATABASE") is not None:
                # The database is always the one connected to (PostgreSQL refuses another name).
                stmt["reindex_database"] = True
        statements.append(stmt)
    if not statements:
        raise PackagingError(f"{fname}: no SQL statement")
    transactional = all(s["transactional"] for s in statements)
    if not transactional:
        mixed = [s for s in statements if s["transactional"] and s["kind"] not in SESSION_KINDS]
        if mixed:
            raise PackagingError(f"{fname}: line {mixed[0]['line']}: {mixed[0]['kind']} cannot share a migration with "
                                 "statements that run outside a transaction (CREATE INDEX CONCURRENTLY ...); "
                                 "move it to its own migration")
    args = ["--reporter", "json", "--include", ",".join(SQUAWK_INCLUDE)]
    if transactional:
        args.append("--assume-in-transaction")
    linted = _squawk(squawk, args, path)
    try:
        findings = json.loads(linted.stdout.decode("utf-8") or "[]")
    except ValueError:
        raise PackagingError(f"{fname}: squawk returned no JSON report: {linted.stderr.decode('utf-8', 'replace').strip()}") from None
    line_starts = [0] + [i + 1 for i, byte in enumerate(data) if byte == 0x0A]
    for finding in findings:
        rule = finding.get("rule_name")
        if rule == "syntax-error":
            raise PackagingError(f"{fname}: syntax error at line {finding.get('line', 0) + 1}: {finding.get('message')}")
        offset = _offset(line_starts, data, finding.get("line", 0), finding.get("column", 0))
        target = next((s for s in statements if s["start"] <= offset < s["end"]), None)
        if target is None:
            target = next((s for s in statements if s["start"] >= offset), statements[-1])
        category = SQUAWK_RULES.get(rule, BREAKS_OLD_VERSION)
        entry = {"rule": rule, "source": "squawk", "category": category, "message": finding.get("message", "")}
        if entry not in target["rules"]:
            target["rules"].append(entry)
    for stmt in statements:
        stmt["reasons"] = [r for r in stmt["rules"] if r["category"] != ADVISORY] + stmt["reasons"]
        stmt["phase"] = "contract" if stmt["reasons"] else "expand"
    return {
        "checksum": hashlib.sha256(data).hexdigest(),
        "phase": "contract" if any(s["phase"] == "contract" for s in statements) else "expand",
        "transactional": transactional,
        "statements": statements,
    }


def migration_files(migrations_dir):
    """The V<NNN>__<name>.sql files of a directory, ordered by version."""
    if not os.path.isdir(migrations_dir):
        raise PackagingError(f"migrations directory not found: {migrations_dir}")
    found = {}
    for fname in sorted(os.listdir(migrations_dir)):
        if not fname.endswith(".sql"):
            continue
        match = MIGRATION_FILE.match(fname)
        if not match:
            raise PackagingError(f"{fname}: migration files are named V<number>__<name>.sql")
        version = int(match.group(1))
        if version in found:
            raise PackagingError(f"{fname}: version {version} is also used by {found[version][1]}")
        found[version] = (match.group(2), fname)
    return [(v, found[v][0], found[v][1]) for v in sorted(found)]


def build_manifest(migrations_dir, squawk=None):
    squawk = squawk or find_squawk()
    migrations = []
    for version, name, fname in migration_files(migrations_dir):
        entry = {"file": fname, "version": version, "name": name}
        entry.update(classify_file(os.path.join(migrations_dir, fname), squawk))
        migrations.append(entry)
    return {"format": MANIFEST_FORMAT, "linter": "squawk", "linter_version": squawk_version(squawk), "migrations": migrations}


def manifest_summary(manifest):
    migrations = manifest["migrations"]
    return {
        "migrations": len(migrations),
        "latest_version": migrations[-1]["version"] if migrations else 0,
        "expand": [m["file"] for m in migrations if m["phase"] == "expand"],
        "contract": [m["file"] for m in migrations if m["phase"] == "contract"],
        "autocommit": [m["file"] for m in migrations if not m["transactional"]],
        "linter_version": manifest.get("linter_version"),
    }


def write_manifest(migrations_dir, dest, squawk=None):
    """Build the manifest of a migrations directory and write it to dest (local runs and tests)."""
    manifest = build_manifest(migrations_dir, squawk)
    with open(dest, "wb") as handle:
        handle.write(manifest_bytes(manifest))
    return manifest


def manifest_bytes(manifest):
    return (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8")


# -- dependencies ------------------------------------------------------------------------
def _requirement_name(spec):
    """The project name of a Requires-Dist line, unless it only applies to an extra."""
    if ";" in spec and "extra" in spec.split(";", 1)[1]:
        return None
    name = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    return name.group(1) if name else None


def dependency_files(roots):
    """{archive name: bytes} for the installed distributions `roots` and their requirements."""
    from importlib import metadata

    files = {}
    seen = set()
    queue = list(roots)
    while queue:
        wanted = queue.pop(0)
        key = re.sub(r"[-_.]+", "-", wanted).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(wanted)
        except metadata.PackageNotFoundError:
            raise PackagingError(f"Python distribution {wanted} is not installed on the controller") from None
        for req in dist.requires or []:
            name = _requirement_name(req)
            if name:
                queue.append(name)
        for entry in dist.files or []:
            arcname = str(entry).replace(os.sep, "/")
            parts = arcname.split("/")
            if arcname.startswith("..") or "__pycache__" in parts or arcname.endswith((".pyc", ".pyo")):
                continue
            if parts[0].endswith(".dist-info") and parts[-1] in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json"):
                continue
            if arcname.endswith((".so", ".pyd", ".dylib")):
                raise PackagingError(f"{dist.metadata['Name']} is not pure Python ({arcname}); it cannot be bundled")
            with open(entry.locate(), "rb") as handle:
                files[arcname] = handle.read()
    return files


# -- the zip -----------------------------------------------------------------------------
def code_files(source_dir):
    """The migrator's own modules: the .py files at the top of source_dir."""
    files = {}
    for fname in sorted(os.listdir(source_dir)):
        if fname.endswith(".py") and os.path.isfile(os.path.join(source_dir, fname)):
            with open(os.path.join(source_dir, fname), "rb") as handle:
                files[fname] = handle.read()
    if not files:
        raise PackagingError(f"no Python module in {source_dir}")
    return files


def _top_level_names(body):
    """name -> node for everything bound at module level (defs, assignments, imports), also
    under a module-level if or try (a def guarded by a feature check)."""
    found = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found[(alias.asname or alias.name).split(".")[0]] = node
        elif isinstance(node, ast.If):
            found.update(_top_level_names(node.body))
            found.update(_top_level_names(node.orelse))
        elif isinstance(node, ast.Try):
            for part in [node.body, node.orelse, node.finalbody] + [h.body for h in node.handlers]:
                found.update(_top_level_names(part))
    return found


def handler_problem(files, handler):
    """None when `handler` (module.function) is callable by Lambda from the package `files`
    ({arcname: bytes}), else why not. The one check the packager and preflight share: the
    module must be in the package, and the name bound at its top level; a def must not be
    async (the Python runtime does not await it) and must take (event, context)."""
    module, dummy, function = handler.rpartition(".")
    if not module or not function:
        return "handler %r is not <module>.<function>" % handler
    arcname = module.replace(".", "/") + ".py"
    if arcname not in files:
        return "handler %s: %s is not in the package (it holds %s)" % (handler, arcname, ", ".join(sorted(n for n in files if "/" not in n)) or "nothing")
    try:
        tree = ast.parse(files[arcname], filename=arcname)
    except SyntaxError as e:
        return "handler %s: %s does not parse: %s (line %s)" % (handler, arcname, e.msg, e.lineno)
    node = _top_level_names(tree.body).get(function)
    if node is None:
        return "handler %s: %s defines no top-level %s" % (handler, arcname, function)
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant):
        return "handler %s: %s binds %s to a constant, not a function" % (handler, arcname, function)
    if isinstance(node, ast.AsyncFunctionDef):
        return "handler %s is async; the Lambda Python runtime calls the handler without awaiting it" % handler
    if isinstance(node, ast.FunctionDef):
        args = node.args
        positional = list(args.posonlyargs) + list(args.args)
        required = len(positional) - len(args.defaults)
        if (len(positional) < 2 and args.vararg is None) or required > 2:
            return "handler %s takes %d positional argument(s); Lambda calls it as handler(event, context)" % (handler, len(positional))
    return None


def check_handler(files, handler):
    """The handler's module exists in the archive and binds the function (AST, no import);
    returns the module's archive name."""
    problem = handler_problem(files, handler)
    if problem:
        raise PackagingError(problem)
    return handler.rpartition(".")[0].replace(".", "/") + ".py"


def zip_bytes(files):
    """A deterministic zip of {archive name: bytes}: sorted, fixed dates and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname in sorted(files):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_DATE)
            info.create_system = 3
            info.external_attr = ZIP_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[arcname], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


# Where a CA bundle goes in the zip; the migrator resolves MIGRATOR_SSL_CA against its own directory.
CA_BUNDLE_NAME = "ca-bundle.pem"


def migrator_environment(secret_arn, sslmode, ca_bundle):
    """The environment variables the packaged migrator reads (migrator/index.py) and the role
    sets: the database secret's ARN, the TLS mode, and the packaged CA bundle when one is given."""
    own = {"DB_SECRET_ARN": secret_arn, "MIGRATOR_SSLMODE": sslmode}
    if ca_bundle:
        own["MIGRATOR_SSL_CA"] = CA_BUNDLE_NAME
    return own


def ca_bundle_bytes(path):
    """The PEM bundle at `path`, checked to hold at least one certificate and nothing else."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as e:
        raise PackagingError(f"CA bundle {path} cannot be read: {e.strerror}") from e
    text = data.decode("ascii", "replace")
    if "-----BEGIN CERTIFICATE-----" not in text or "PRIVATE KEY" in text:
        raise PackagingError(f"CA bundle {path} holds no PEM certificate (expected -----BEGIN CERTIFICATE----- blocks, no key)")
    return data


def build_package(source_dir, migrations_dir, handler="index.handler", dependencies=("pg8000",), squawk=None, ca_bundle=None):
    """Everything the zip holds, in memory: returns (zip bytes, manifest, file names).
    `ca_bundle`: path of a PEM bundle packaged as ca-bundle.pem (sslmode verify-full)."""
    files = {}
    if ca_bundle:
        files[CA_BUNDLE_NAME] = ca_bundle_bytes(ca_bundle)
    files.update(dependency_files(dependencies))
    code = code_files(source_dir)
    clash = sorted(set(code) & set(files))
    if clash:
        raise PackagingError(f"migrator modules clash with bundled dependencies: {', '.join(clash)}")
    files.update(code)
    manifest = build_manifest(migrations_dir, squawk)
    for migration in manifest["migrations"]:
        with open(os.path.join(migrations_dir, migration["file"]), "rb") as handle:
            files["migrations/" + migration["file"]] = handle.read()
    files["manifest.json"] = manifest_bytes(manifest)
    check_handler(files, handler)
    return zip_bytes(files), manifest, sorted(files)


def code_sha256(data):
    """The CodeSha256 Lambda reports for this zip (base64 of the SHA-256 digest)."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def file_sha256(path):
    try:
        with open(path, "rb") as handle:
            return code_sha256(handle.read())
    except FileNotFoundError:
        return None


def write_atomically(dest, data):
    """Write dest atomically (a temporary file beside it, then a rename)."""
    directory = os.path.dirname(os.path.abspath(dest))
    os.makedirs(directory, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=".migrator-", suffix=".zip")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def handler_summary(handler, manifest, sha):
    """One line on what was packaged: the handler's file, the migrations and the CodeSha256."""
    summary = manifest_summary(manifest)
    return "%s found in %s; %d migrations (expand %d, contract %d), CodeSha256 %s" % (
        handler, handler.rpartition(".")[0].replace(".", "/") + ".py", summary["migrations"],
        len(summary["expand"]), len(summary["contract"]), sha)


def ensure_package(dest, source_dir=None, migrations_dir=None, handler="index.handler", dependencies=("pg8000",),
                   squawk_path=None, ca_bundle=None, check_mode=False):
    """Build the zip in memory and write it to dest when its bytes differ (never in check mode).
    Returns the result of bluegreen.migration.migrator_package (path, code_sha256, size, handler,
    files, manifest, msg, changed) and `before`, the CodeSha256 of the zip found at dest (None
    when there is none). Raises PackagingError on a missing handler, bad migration, unreadable
    CA bundle ...; OSError when dest cannot be written."""
    dest = os.path.abspath(dest)
    if not source_dir:
        root = find_collection_root()
        if root is None:
            raise PackagingError("cannot find the bluegreen.migration collection's migrator directory; set source_dir")
        source_dir = os.path.join(root, "migrator")
    migrations_dir = migrations_dir or os.path.join(source_dir, "migrations")
    data, manifest, names = build_package(source_dir, migrations_dir, handler=handler, dependencies=dependencies,
                                          squawk=find_squawk(squawk_path), ca_bundle=ca_bundle)
    before = file_sha256(dest)
    after = code_sha256(data)
    changed = before != after
    if changed and not check_mode:
        write_atomically(dest, data)
    return {
        "changed": changed,
        "before": before,
        "path": dest,
        "code_sha256": after,
        "size": len(data),
        "handler": handler,
        "files": len(names),
        "manifest": manifest_summary(manifest),
        "msg": handler_summary(handler, manifest, after),
    }


def find_collection_root():
    """The bluegreen.migration collection directory on this controller, or None."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.dirname(os.path.dirname(here))]
    paths = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS") or ""
    for base in [p for p in paths.split(os.pathsep) if p] + [os.path.expanduser("~/.ansible/collections"),
                                                             "/usr/share/ansible/collections"]:
        candidates.append(os.path.join(base, "ansible_collections", "bluegreen", "migration"))
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, "migrator", "index.py")):
            return candidate
    return None
