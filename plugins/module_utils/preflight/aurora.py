# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Aurora inputs (rule 6 and the others): engine version, instance class, reader count,
database and master user names, password length, and deletion protection and final snapshot
against environment_disposable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.bluegreen.migration.plugins.module_utils import cost as cost_model
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import (
    AURORA_MAJOR_SUPPORTED,
    IDENTIFIER_PATTERN,
    INSTANCE_CLASS_PATTERN,
    RESERVED_DATABASES,
    RESERVED_USERNAMES,
    SQL_RESERVED,
)
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import as_bool, int_in_range


def check_aurora(f):
    version = f.variables.get("aurora_engine_version")
    if isinstance(version, float):
        f.error(
            "aurora_engine_version",
            "engine_version",
            "the version was read as the number %r (YAML drops trailing zeros, 15.10 becomes 15.1)" % version,
            'quote it: aurora_engine_version: "%s"' % version,
        )
    elif not isinstance(version, str) or not re.match(r"^[0-9]+(\.[0-9]+)?$", version):
        f.error(
            "aurora_engine_version",
            "engine_version",
            "aurora_engine_version must look like 16.4 (major.minor) or 16",
            'set a quoted Aurora PostgreSQL version, e.g. "16.4"',
        )
    else:
        major = int(version.split(".")[0])
        if major < AURORA_MAJOR_SUPPORTED[0]:
            f.error(
                "aurora_engine_version",
                "engine_version",
                "Aurora PostgreSQL %d is past standard support (new clusters are refused or billed extended support)" % major,
                "use %d or later" % AURORA_MAJOR_SUPPORTED[-2],
            )
        elif major > AURORA_MAJOR_SUPPORTED[-1]:
            f.warning(
                "aurora_engine_version",
                "engine_version",
                "Aurora PostgreSQL %d is newer than this collection was tested with" % major,
                "check that the region offers it",
            )
    instance_class = f.variables.get("aurora_instance_class")
    if not isinstance(instance_class, str) or not INSTANCE_CLASS_PATTERN.match(instance_class):
        f.error(
            "aurora_instance_class",
            "instance_class",
            "aurora_instance_class must look like db.<family>.<size> (e.g. db.t4g.medium) or db.serverless",
            "set e.g. db.t3.medium",
        )
    elif instance_class != "db.serverless" and instance_class not in cost_model.AURORA_INSTANCE_HOUR:
        f.warning(
            "aurora_instance_class",
            "instance_class",
            "no price known for %s, so the cost estimate leaves Aurora out" % instance_class,
            "use one of %s, or add its price to plugins/module_utils/cost.py" % ", ".join(sorted(cost_model.AURORA_INSTANCE_HOUR)),
        )
    int_in_range(f, "aurora_reader_count", 0, 15, "Aurora allows 15 replicas")
    # Checked before the secret is created: a password CreateDBCluster refuses would be kept in it.
    int_in_range(f, "aurora_password_length", 8, 41, "Aurora's master password holds 8 to 41 characters")
    database = f.variables.get("aurora_database_name")
    if not isinstance(database, str) or not IDENTIFIER_PATTERN.match(database):
        f.error(
            "aurora_database_name",
            "identifier",
            "the database name must start with a letter and hold 1 to 63 letters, digits or _",
            "set e.g. aurora_database_name: app",
        )
    elif database.lower() in RESERVED_DATABASES or database.lower() in SQL_RESERVED:
        f.error("aurora_database_name", "identifier", "%s is reserved in PostgreSQL or by RDS" % database, "choose another name, e.g. app")
    username = f.variables.get("aurora_master_username")
    if not isinstance(username, str) or not IDENTIFIER_PATTERN.match(username):
        f.error(
            "aurora_master_username",
            "identifier",
            "the master username must start with a letter and hold 1 to 63 letters, digits or _",
            "set e.g. aurora_master_username: app_admin",
        )
    elif username.lower() in RESERVED_USERNAMES or username.lower() in SQL_RESERVED or username.lower().startswith(("rds", "pg_")):
        f.error(
            "aurora_master_username",
            "identifier",
            "%s is reserved by PostgreSQL or RDS, or is a well-known account name" % username,
            "choose an application-specific name, e.g. app_admin",
        )
    disposable = as_bool(f.variables.get("environment_disposable"))
    # Not booleans: the spec rule reports them (as_bool gives None, so nothing more is said).
    protection = as_bool(f.variables.get("aurora_deletion_protection"))
    skip_snapshot = as_bool(f.variables.get("aurora_skip_final_snapshot"))
    if disposable:
        if protection:
            f.error(
                "aurora_deletion_protection",
                "disposable",
                "deletion protection is on for a disposable environment, so teardown cannot delete the cluster",
                "set aurora_deletion_protection: false, or environment_disposable: false for a long-lived environment",
            )
        if skip_snapshot is False:
            f.error(
                "aurora_skip_final_snapshot",
                "disposable",
                "a final snapshot is requested for a disposable environment; teardown would leave a snapshot behind (and its storage bill)",
                "set aurora_skip_final_snapshot: true, or environment_disposable: false",
            )
    elif disposable is False:
        if protection is False:
            f.warning(
                "aurora_deletion_protection", "disposable", "a long-lived environment without deletion protection", "set aurora_deletion_protection: true"
            )
        if skip_snapshot:
            f.warning(
                "aurora_skip_final_snapshot",
                "disposable",
                "a long-lived environment deleted without a final snapshot loses its data",
                "set aurora_skip_final_snapshot: false",
            )
