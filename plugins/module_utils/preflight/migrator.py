# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Migrator Lambda inputs (rule 7): the runtime, the handler checked on the files the packager
would zip, and the CA bundle verify-full needs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.bluegreen.migration.plugins.module_utils import awslambda
from ansible_collections.bluegreen.migration.plugins.module_utils import packaging
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import aws_partition
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import LAMBDA_DEPRECATED, LAMBDA_PYTHON_RUNTIMES


def resolve_source_dir(value, search_dirs):
    """First existing directory for value (absolute, or relative to each of search_dirs)."""
    if os.path.isabs(value):
        return value if os.path.isdir(value) else None, [value]
    tried = [os.path.normpath(os.path.join(base, value)) for base in search_dirs if base]
    for candidate in tried:
        if os.path.isdir(candidate):
            return candidate, tried
    return None, tried


def find_handler(source_dir, handler):
    """None when handler (module.function) is callable from the package built of source_dir,
    else why not: the packager's own check, on the files it would package."""
    try:
        files = packaging.code_files(source_dir)
    except (OSError, packaging.PackagingError) as e:
        return str(e)
    return packaging.handler_problem(files, handler)


def check_migrator(f, search_dirs):
    runtime = f.variables.get("migrator_lambda_runtime")
    if runtime not in LAMBDA_PYTHON_RUNTIMES:
        why = "is deprecated by Lambda (no new functions or updates)" if runtime in LAMBDA_DEPRECATED else "is not a Python runtime Lambda supports"
        f.error(
            "migrator_lambda_runtime",
            "runtime",
            "%s %s; the migrator needs one of %s" % (runtime, why, ", ".join(LAMBDA_PYTHON_RUNTIMES)),
            "set migrator_lambda_runtime: python3.12",
        )
    handler = f.variables.get("migrator_lambda_handler")
    if not isinstance(handler, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$", handler):
        f.error("migrator_lambda_handler", "handler", "the handler must be module.function (e.g. index.handler)", "set migrator_lambda_handler: index.handler")
        return
    # Empty means the collection's own migrator package.
    source = f.variables.get("migrator_lambda_source_dir") or "migrator"
    if not isinstance(source, str) or not source:
        f.error(
            "migrator_lambda_source_dir",
            "handler",
            "migrator_lambda_source_dir must name the directory packaged into the Lambda",
            "set it to the migrator source directory (default: migrator)",
        )
        return
    found, tried = resolve_source_dir(source, search_dirs)
    if found is None:
        f.error(
            "migrator_lambda_source_dir",
            "handler",
            "the migrator source directory does not exist (looked in %s)" % ", ".join(tried),
            "point migrator_lambda_source_dir at the directory holding %s.py" % handler.rsplit(".", 1)[0].replace(".", "/"),
        )
        return
    problem = find_handler(found, handler)
    if problem:
        f.error(
            "migrator_lambda_handler",
            "handler",
            problem + "; the function would fail on every invocation with Runtime.ImportModuleError/HandlerNotFound",
            "make migrator_lambda_handler name a def in the packaged code",
        )


def check_ca_bundle(f, search_dirs):
    """verify-full checks the database's certificate against the packaged bundle: Lambda's own
    trust store does not carry the RDS certificate authorities."""
    mode = f.variables.get("migrator_lambda_sslmode") or "require"
    bundle = f.variables.get("migrator_lambda_ca_bundle") or ""
    fix = "download the RDS global bundle (global-bundle.pem, Amazon RDS user guide: Using SSL/TLS) and set migrator_lambda_ca_bundle to its path"
    if not bundle:
        if mode == "verify-full":
            f.error(
                "migrator_lambda_ca_bundle",
                "ca_bundle",
                "migrator_lambda_sslmode is verify-full but no CA bundle is given; Lambda's trust store does not carry "
                "the RDS certificate authorities, so every connection would fail certificate verification",
                fix + ", or use migrator_lambda_sslmode: require (encrypted, not verified)",
            )
        return
    candidates = [os.path.expanduser(bundle)] if os.path.isabs(os.path.expanduser(bundle)) else [os.path.join(base, bundle) for base in search_dirs if base]
    found = next((c for c in candidates if os.path.isfile(c)), None)
    if found is None:
        f.error("migrator_lambda_ca_bundle", "ca_bundle", "CA bundle %s not found (looked at %s)" % (bundle, ", ".join(candidates)), fix)
        return
    with open(found, "rb") as handle:
        text = handle.read().decode("ascii", "replace")
    if "-----BEGIN CERTIFICATE-----" not in text or "PRIVATE KEY" in text:
        f.error("migrator_lambda_ca_bundle", "ca_bundle", "%s holds no PEM certificate (or holds a private key)" % found, fix)


def check_function_environment(f, names):
    """migrator_lambda_environment as Lambda takes it (awslambda.environment_problems), measured
    with the variables the role adds: the secret's ARN (its name, a 12-digit account and the
    6-character suffix Secrets Manager appends) and the TLS settings."""
    extra = f.variables.get("migrator_lambda_environment") or {}
    if not isinstance(extra, dict):
        return  # rule `spec` reports a value that is not a mapping
    region = f.variables.get("aws_region")
    if not isinstance(region, str) or not region:
        region = "us-east-1"  # rule `region` reports a bad one; the ARN's length is all that counts here
    secret = names.get("aurora_secret") or "aurora-credentials"
    own = packaging.migrator_environment(
        "arn:%s:secretsmanager:%s:000000000000:secret:%s-XXXXXX" % (aws_partition(region), region, secret),
        f.variables.get("migrator_lambda_sslmode") or "require",
        f.variables.get("migrator_lambda_ca_bundle"),
    )
    for problem in awslambda.environment_problems(extra, own):
        f.error(
            "migrator_lambda_environment",
            "lambda_environment",
            problem,
            "keep migrator_lambda_environment to non-secret settings the runtime and the role do not set "
            "(e.g. MIGRATOR_LOCK_TIMEOUT_MS), under 4 KB in all",
        )
