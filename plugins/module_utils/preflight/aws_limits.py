# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS limits (rule 8): the Elastic IP and VPC quotas of the region, shared with the other
environments of the batch, and whether the Aurora version and instance class can be ordered;
from the facts the action plugin read for aws_limits_plan().
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.bluegreen.migration.plugins.module_utils import cost as cost_model
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.aws_limits_plan import needs_vpc, new_addresses
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import AURORA_ENGINE, EIP_QUOTA, LIMIT_ACTIONS, VPC_QUOTA
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import DEFAULTS


def _shared(region, others, what):
    if not others:
        return ""
    return "; the quota is per region and shared: %d other environment(s) of this run deploy to %s at the same time (%s)%s" % (
        len(others),
        region,
        ", ".join(o["host"] for o in others),
        what,
    )


def _unread(f, variable, rule, group, fact, what):
    error = str(fact.get("error"))
    if "credentials" in error.lower():
        fix = "configure AWS credentials (profile, environment or role) for the run, or pass check_aws_limits: false"
    else:
        fix = "allow %s to the identity running preflight, or pass check_aws_limits: false" % LIMIT_ACTIONS[group]
    f.warning(variable, rule, "could not read %s (%s), so it is not checked" % (what, error), fix)


def check_eip_quota(f, plan, fact):
    this, others = plan["environments"][0], plan["environments"][1:]
    region = plan["region"]
    if fact.get("error"):
        if this["nat_gateways"]:
            _unread(f, "network_nat_gateways", "eip_quota", "eip", fact, "the Elastic IP quota of %s" % region)
        return
    owned = fact.get("owned") or {}
    mine = new_addresses(this, owned)
    theirs = [(o, new_addresses(o, owned)) for o in others]
    theirs = [(o, n) for o, n in theirs if n]
    if not mine or fact.get("limit") is None:
        return
    limit, in_use = fact["limit"], fact["in_use"]
    free = max(0, limit - in_use)
    layout = f.variables.get("network_nat_gateways")
    fix_layout = "set network_nat_gateways: single (one NAT gateway, one address), " if layout == "per_az" else ""
    quota = "the '%s' quota (%s)" % (EIP_QUOTA["name"], EIP_QUOTA["code"])
    if mine > free:
        f.error(
            "network_nat_gateways",
            "eip_quota",
            "%s means %d NAT gateway(s) with one Elastic IP each, %d of them new (this environment owns %d), but %s has %d of its %d "
            "allocated (%s), so AllocateAddress would fail with AddressLimitExceeded%s"
            % (
                layout,
                this["nat_gateways"],
                mine,
                owned.get(this["suffix"], 0),
                region,
                in_use,
                limit,
                fact.get("limit_source"),
                _shared(region, [o for o, _n in theirs], ", needing %d more" % sum(n for _o, n in theirs)),
            ),
            "%srelease unused Elastic IPs in %s, or request an increase of %s" % (fix_layout, region, quota),
        )
    elif mine + sum(n for _o, n in theirs) > free:
        f.warning(
            "network_nat_gateways",
            "eip_quota",
            "this environment's %d new Elastic IP(s) fit (%d of %d allocated in %s), but with the others of this run they need %d and only %d are free%s"
            % (
                mine,
                in_use,
                limit,
                region,
                mine + sum(n for _o, n in theirs),
                free,
                _shared(region, [o for o, _n in theirs], ", so some of their NAT gateways would fail"),
            ),
            "deploy fewer environments at once (serial or --limit), %sor request an increase of %s" % (fix_layout.replace("set ", "use "), quota),
        )


def check_vpc_quota(f, plan, fact):
    this, others = plan["environments"][0], plan["environments"][1:]
    region = plan["region"]
    if fact.get("error"):
        _unread(f, "aws_region", "vpc_quota", "vpc", fact, "the VPCs of %s" % region)
        return
    existing = fact.get("existing") or []
    if not needs_vpc(this, existing) or fact.get("limit") is None:
        return
    theirs = [o for o in others if needs_vpc(o, existing)]
    limit, count = fact["limit"], fact["count"]
    quota = "the '%s' quota (%s)" % (VPC_QUOTA["name"], VPC_QUOTA["code"])
    if count + 1 > limit:
        f.error(
            "aws_region",
            "vpc_quota",
            "environment %s needs a new VPC (none named %s with %s exists) but %s has %d of its %d VPCs (%s), so CreateVpc would fail with "
            "VpcLimitExceeded%s"
            % (this["suffix"], this["vpc_name"], this["vpc_cidr"], region, count, limit, fact.get("limit_source"), _shared(region, theirs, "")),
            "delete an unused VPC in %s (make teardown of an old environment), request an increase of %s, or set aws_region to another region"
            % (region, quota),
        )
    elif count + 1 + len(theirs) > limit:
        f.warning(
            "aws_region",
            "vpc_quota",
            "this environment's new VPC fits (%d of %d VPCs in %s), but with the others of this run %d new VPCs are needed%s"
            % (count, limit, region, 1 + len(theirs), _shared(region, theirs, ", so some of them would fail")),
            "deploy fewer environments at once (serial or --limit), or request an increase of %s" % quota,
        )


def _version_key(version):
    return [int(p) if p.isdigit() else 0 for p in re.split(r"[.-]", version)]


def check_aurora_orderable(f, plan, fact):
    aurora = plan["aurora"]
    region = plan["region"]
    if fact.get("error"):
        _unread(
            f,
            "aurora_engine_version",
            "engine_orderable",
            "aurora",
            fact,
            "whether Aurora PostgreSQL %s is available in %s" % (aurora["engine_version"], region),
        )
        return
    if fact.get("cluster_exists"):
        return  # the role creates nothing: the cluster keeps its version
    version, major = aurora["engine_version"], aurora["major"]
    source = fact.get("source")
    if not fact.get("version_available"):
        versions = sorted(set(fact.get("versions") or []), key=_version_key)
        default = DEFAULTS["aurora_engine_version"]
        if versions:
            keep = ", or leave aurora_engine_version unset for the default %s" % default if default in versions and version != default else ""
            fix = "set aurora_engine_version to one of %s%s" % (", ".join('"%s"' % v for v in versions), keep)
        else:
            fix = "set aurora_engine_version to a version of another major that %s offers (aws rds describe-db-engine-versions --engine %s)" % (
                region,
                AURORA_ENGINE,
            )
        f.error(
            "aurora_engine_version",
            "engine_orderable",
            "Aurora PostgreSQL %s is not available for new clusters in %s (%s); the cluster %s does not exist yet, so CreateDBCluster would be refused. "
            "Available versions of %s%s: %s"
            % (
                version,
                region,
                source,
                aurora["cluster"],
                major,
                " with %s" % aurora["instance_class"] if fact.get("versions_with_class") else "",
                ", ".join(versions) or "none",
            ),
            fix,
        )
    elif fact.get("class_orderable") is False:
        classes = sorted(set(fact.get("classes") or []))
        priced = [c for c in classes if c in cost_model.AURORA_INSTANCE_HOUR or c == "db.serverless"]
        shown = priced or classes[:12]
        f.error(
            "aurora_instance_class",
            "instance_orderable",
            "%s is not offered with Aurora PostgreSQL %s in %s (%s), so the writer could not be created"
            % (aurora["instance_class"], fact.get("resolved_version") or version, region, source),
            "set aurora_instance_class to one of %s, or choose another aurora_engine_version" % (", ".join(shown) or "the classes AWS lists for this version"),
        )


def check_aws_limits(f, plan, facts):
    """Rule 8 from the facts the action plugin read (None: not read, nothing to say)."""
    if not plan or not facts:
        return
    if facts.get("eip") is not None:
        check_eip_quota(f, plan, facts["eip"])
    if facts.get("vpc") is not None:
        check_vpc_quota(f, plan, facts["vpc"])
    if facts.get("aurora") is not None and plan.get("aurora"):
        check_aurora_orderable(f, plan, facts["aurora"])
