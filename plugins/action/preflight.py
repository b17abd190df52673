# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of bluegreen.migration.preflight: gather the host's variables, run the
rules engine (the package plugins/module_utils/preflight/: each set variable against its
argument spec, then the rules), print the report, fail on errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.bluegreen.migration.plugins.module_utils import preflight

display = Display()

# plugins/action/preflight.py -> the collection root, where migrator/ lives.
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ARGUMENT_SPEC = dict(
    fail_on_error=dict(type="bool", default=True),
    check_key_policies=dict(type="bool", default=True),
    # None: read the limits when check_key_policies is on and the run is against AWS.
    check_aws_limits=dict(type="bool", default=None),
)
# What rule 8 needs of the other environments of the play batch.
PEER_VARIABLES = ("environment_suffix", "aws_region", "bluegreen_emulator", "network_vpc_cidr", "network_az_count", "network_nat_gateways")


def read_key_policies(key_arns, region):
    """{key ARN: {"policy": text} | {"error": message}} with kms:GetKeyPolicy (read-only)."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as e:
        return dict((arn, {"error": "boto3 is not installed on the controller (%s)" % e}) for arn in key_arns)
    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
    policies = {}
    try:
        client = boto3.session.Session().client("kms", region_name=region, config=config)
    except (BotoCoreError, ValueError) as e:
        return dict((arn, {"error": to_text(e)}) for arn in key_arns)
    for arn in key_arns:
        try:
            policies[arn] = {"policy": client.get_key_policy(KeyId=arn, PolicyName="default")["Policy"]}
        except (BotoCoreError, ClientError) as e:
            policies[arn] = {"error": to_text(e)}
    return policies


def _aws_config():
    from botocore.config import Config

    # Standard retries cover throttling (Throttling, RequestLimitExceeded, ThrottlingException) and 5xx.
    return Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 4, "mode": "standard"})


def _short(e):
    """One line of an AWS error (a non-XML answer quotes the whole body)."""
    from botocore.parsers import ResponseParserError

    if isinstance(e, ResponseParserError):
        return "no valid answer (%s)" % type(e).__name__
    text = to_text(e).strip().splitlines()[0] if to_text(e).strip() else type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


class LimitUnreadable(Exception):
    """No source of a quota answered."""


def _read_quota(clients, spec, attribute=None):
    """(value, source) of a quota: its applied value in Service Quotas, else the EC2 account
    attribute (Elastic IPs), else its AWS default in Service Quotas. Raises the last error."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    errors = []
    attempts = [
        (
            "Service Quotas %s" % spec["code"],
            lambda: clients("service-quotas").get_service_quota(ServiceCode=spec["service"], QuotaCode=spec["code"])["Quota"]["Value"],
        )
    ]
    if attribute:
        attempts.append(
            (
                "EC2 account attribute %s" % attribute,
                lambda: clients("ec2").describe_account_attributes(AttributeNames=[attribute])["AccountAttributes"][0]["AttributeValues"][0]["AttributeValue"],
            )
        )
    attempts.append(
        (
            "the AWS default of %s" % spec["code"],
            lambda: clients("service-quotas").get_aws_default_service_quota(ServiceCode=spec["service"], QuotaCode=spec["code"])["Quota"]["Value"],
        )
    )
    for source, read in attempts:
        try:
            return int(float(read())), source
        except (BotoCoreError, ClientError, ResponseParserError, KeyError, IndexError, TypeError, ValueError) as e:
            errors.append("%s: %s" % (source, _short(e)))
    raise LimitUnreadable("; ".join(errors))


def _read_eip(clients, plan):
    """Addresses in use in the region, how many each environment owns (by tag), and the quota
    when this environment needs new ones."""
    addresses = clients("ec2").describe_addresses()["Addresses"]
    owned = {}
    for address in addresses:
        for tag in address.get("Tags") or []:
            if tag.get("Key") == "bluegreen:environment":
                owned[tag.get("Value")] = owned.get(tag.get("Value"), 0) + 1
    fact = {"in_use": len(addresses), "owned": owned, "limit": None}
    if preflight.new_addresses(plan["environments"][0], owned):
        fact["limit"], fact["limit_source"] = _read_quota(clients, preflight.EIP_QUOTA, attribute="vpc-max-elastic-ips")
    return fact


def _read_vpc(clients, plan):
    """Every VPC of the region (Name tag, primary CIDR), and the quota when this environment's
    VPC does not exist yet."""
    existing = []
    for page in clients("ec2").get_paginator("describe_vpcs").paginate():
        for vpc in page["Vpcs"]:
            name = next((t.get("Value") for t in vpc.get("Tags") or [] if t.get("Key") == "Name"), None)
            existing.append({"id": vpc.get("VpcId"), "name": name, "cidr": vpc.get("CidrBlock")})
    fact = {"count": len(existing), "existing": existing, "limit": None}
    if preflight.needs_vpc(plan["environments"][0], existing):
        fact["limit"], fact["limit_source"] = _read_quota(clients, preflight.VPC_QUOTA)
    return fact


def _paginate(client, operation, key, page_size=100, **kwargs):
    items = []
    for page in client.get_paginator(operation).paginate(PaginationConfig={"PageSize": page_size}, **kwargs):
        items.extend(page.get(key) or [])
    return items


def _read_aurora(clients, aurora):
    """Whether the cluster exists, and if not whether its version and class can be ordered."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    rds = clients("rds")
    try:
        rds.describe_db_clusters(DBClusterIdentifier=aurora["cluster"])
        return {"cluster_exists": True}
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "DBClusterNotFoundFault":
            raise
    engine, version, cls = preflight.AURORA_ENGINE, aurora["engine_version"], aurora["instance_class"]
    family = "%s%s" % (engine, aurora["major"])
    minor = "." in version
    fact = {"cluster_exists": False, "source": "DescribeDBEngineVersions"}
    try:
        # Only versions a new cluster can use (IncludeAll is false): a retired minor is absent.
        if minor:
            found = rds.describe_db_engine_versions(Engine=engine, EngineVersion=version)["DBEngineVersions"]
        else:
            found = rds.describe_db_engine_versions(Engine=engine, DBParameterGroupFamily=family, DefaultOnly=True)["DBEngineVersions"]
        found = [v for v in found if v.get("Status", "available") == "available"]
    except (BotoCoreError, ClientError, ResponseParserError) as e:
        # Refused (not permitted, or not implemented by the endpoint): the orderable options
        # answer both questions (emulator difference: see docs/real-aws.md#emulator-differences).
        fact["source"] = "DescribeOrderableDBInstanceOptions; DescribeDBEngineVersions: %s" % _short(e)
        return _read_aurora_orderable(rds, aurora, fact)
    fact["version_available"] = bool(found)
    if not found:
        listed = _paginate(rds, "describe_db_engine_versions", "DBEngineVersions", Engine=engine, DBParameterGroupFamily=family)
        fact["versions"] = [v["EngineVersion"] for v in listed if v.get("Status", "available") == "available"]
        return fact
    resolved = found[0]["EngineVersion"]
    fact["resolved_version"] = resolved
    options = rds.describe_orderable_db_instance_options(Engine=engine, EngineVersion=resolved, DBInstanceClass=cls, Vpc=True)["OrderableDBInstanceOptions"]
    fact["class_orderable"] = any(o.get("DBInstanceClass") == cls for o in options)
    if not fact["class_orderable"]:
        options = _paginate(rds, "describe_orderable_db_instance_options", "OrderableDBInstanceOptions", 1000, Engine=engine, EngineVersion=resolved, Vpc=True)
        fact["classes"] = sorted(set(o["DBInstanceClass"] for o in options))
    return fact


def _read_aurora_orderable(rds, aurora, fact):
    engine, version, cls, major = preflight.AURORA_ENGINE, aurora["engine_version"], aurora["instance_class"], aurora["major"]
    # Filtered here too, whatever the endpoint did with DBInstanceClass and Vpc
    # (emulator difference: see docs/real-aws.md#emulator-differences).
    with_class = _paginate(rds, "describe_orderable_db_instance_options", "OrderableDBInstanceOptions", 1000, Engine=engine, DBInstanceClass=cls, Vpc=True)
    versions = sorted(set(o["EngineVersion"] for o in with_class if o.get("DBInstanceClass") == cls and o["EngineVersion"].split(".")[0] == major))
    if version in versions or ("." not in version and versions):
        fact.update(version_available=True, class_orderable=True, resolved_version=version if "." in version else versions[-1])
        return fact
    if "." in version:
        options = _paginate(rds, "describe_orderable_db_instance_options", "OrderableDBInstanceOptions", 1000, Engine=engine, EngineVersion=version, Vpc=True)
        classes = sorted(set(o["DBInstanceClass"] for o in options if o.get("EngineVersion") == version))
        if classes:
            fact.update(version_available=True, class_orderable=False, classes=classes, resolved_version=version)
            return fact
    fact.update(version_available=False, versions=versions, versions_with_class=True)
    return fact


def read_aws_limits(plan, session=None):
    """Rule 8's facts, read-only: {"eip": ..., "vpc": ..., "aurora": ...}, each {"error": message}
    when it could not be read, or None when it has nothing to read."""
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
        from botocore.parsers import ResponseParserError
    except ImportError as e:
        return dict((group, {"error": "boto3 is not installed on the controller (%s)" % e}) for group in ("eip", "vpc", "aurora"))
    groups = []
    this = plan["environments"][0]
    if this["nat_gateways"]:
        groups.append(("eip", _read_eip, plan))
    if this["vpc_cidr"]:
        groups.append(("vpc", _read_vpc, plan))
    if plan.get("aurora"):
        groups.append(("aurora", _read_aurora, plan["aurora"]))
    facts = {}
    try:
        session = session or boto3.session.Session()
    except (BotoCoreError, ValueError) as e:
        return dict((group, {"error": _short(e)}) for group, _read, _arg in groups)
    config = _aws_config()
    made = {}

    def clients(service):
        if service not in made:
            made[service] = session.client(service, region_name=plan["region"], config=config)
        return made[service]

    fatal = None
    for group, read, arg in groups:
        if fatal:
            facts[group] = {"error": fatal}
            continue
        try:
            facts[group] = read(clients, arg)
        except (NoCredentialsError, EndpointConnectionError) as e:
            # Every other call would fail the same way: say it once per group, call nothing more.
            fatal = _short(e)
            facts[group] = {"error": fatal}
        except (BotoCoreError, ClientError, ResponseParserError, LimitUnreadable, KeyError) as e:
            facts[group] = {"error": _short(e)}
    return facts


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    _requires_connection = False
    _supports_check_mode = True

    def _variables(self, task_vars):
        """Every variable preflight reads, templated; (values, findings for untemplatable ones)."""
        values, broken = {}, []
        for name in list(preflight.DEFAULTS) + list(preflight.OPTIONAL):
            if name not in task_vars:
                continue
            try:
                values[name] = self._templar.template(task_vars[name])
            except AnsibleError as e:
                broken.append(
                    {
                        "severity": preflight.ERROR,
                        "variable": name,
                        "value": to_text(task_vars[name]),
                        "rule": "template",
                        "message": "cannot be templated: %s" % to_text(e).splitlines()[0],
                        "fix": "define the variables it refers to",
                    }
                )
        return values, broken

    def _peers(self, task_vars):
        """The variables rule 8 needs of the other hosts of this play batch (each templated
        with its own host's variables by hostvars)."""
        me = task_vars.get("inventory_hostname")
        hostvars = task_vars.get("hostvars") or {}
        peers = []
        for host in task_vars.get("ansible_play_batch") or []:
            if host == me:
                continue
            try:
                theirs = hostvars[host]
            except (KeyError, AnsibleError):
                continue
            values = {"inventory_hostname": host}
            for name in PEER_VARIABLES:
                try:
                    if name in theirs:
                        values[name] = theirs[name]
                except AnsibleError:
                    continue  # that host's own preflight reports it
            peers.append(values)
        return peers

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)

        variables, broken = self._variables(task_vars)
        resolved = preflight.resolve(variables)
        key_policies = {}
        keys = preflight.kms_keys_to_check(resolved)
        guard_ok = not preflight.as_bool(resolved.get("bluegreen_emulator") or False) or preflight.loopback_endpoint(os.environ.get("AWS_ENDPOINT_URL"))
        if keys and args["check_key_policies"] and guard_ok:
            key_policies = read_key_policies(sorted(set(keys.values())), resolved.get("aws_region"))

        # Rule 8 reads quotas and the engine catalogue only from AWS itself (not the emulator),
        # unless asked to explicitly; never when the emulator guard fails.
        check_limits = args["check_aws_limits"]
        if check_limits is None:
            check_limits = args["check_key_policies"] and preflight.against_aws(resolved, os.environ)
        aws_limits, peers = None, []
        if check_limits and guard_ok and not broken:
            peers = self._peers(task_vars)
            plan = preflight.aws_limits_plan(variables, peers)
            if plan:
                aws_limits = read_aws_limits(plan)

        search_dirs = [task_vars.get("playbook_dir"), COLLECTION_ROOT]
        checked = preflight.run_checks(variables, key_policies=key_policies, search_dirs=search_dirs, environ=os.environ, aws_limits=aws_limits, peers=peers)
        if broken:
            # A variable that cannot be templated is reported once, not again by the rules.
            unusable = set(f["variable"] for f in broken)
            checked["findings"] = broken + [f for f in checked["findings"] if f["variable"] not in unusable]
            checked["errors"] = [f for f in checked["findings"] if f["severity"] == preflight.ERROR]
            checked["warnings"] = [f for f in checked["findings"] if f["severity"] == preflight.WARNING]

        title = "preflight of %s (environment_suffix=%s, %s)" % (
            task_vars.get("inventory_hostname", "?"),
            resolved.get("environment_suffix"),
            resolved.get("aws_region"),
        )
        display.display(preflight.format_report(checked, title=title))

        result.update(checked)
        # Ansible prints the `warnings` of a result as [WARNING] lines: one line per warning finding
        # (the structured ones are in `findings`).
        result["warnings"] = [preflight.finding_line(f) for f in checked["warnings"]]
        result["changed"] = False
        errors = checked["errors"]
        if errors and args["fail_on_error"]:
            result["failed"] = True
            result["msg"] = "preflight found %d error(s):\n%s" % (len(errors), "\n".join("- " + preflight.finding_line(f) for f in errors))
        else:
            result["msg"] = "preflight: %d error(s), %d warning(s); estimate $%.2f/month" % (
                len(errors),
                len(checked["warnings"]),
                checked["cost"]["total_monthly_usd"],
            )
        return result
