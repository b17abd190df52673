# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Monthly cost estimate of one blue-green environment, from its inventory variables.

Prices are AWS on-demand list prices for us-east-1 (Linux, no free tier, no savings plan),
taken from the public pricing page of each service (see PRICE_SOURCES and docs/cost.md).
Other regions are estimated with the same table and the estimate says so. A month is
730 hours, as on AWS bills.

Only what an environment runs continuously is counted: NAT gateways, the load balancer,
the live color's Fargate tasks (the idle color is scaled to zero between rollouts), the
Aurora writer and readers, interface VPC endpoints, public IPv4 addresses, the database
secret, alarms, log storage and customer managed KMS keys. Traffic-driven charges (NAT and
endpoint data processing, LCUs above the minimum, Aurora I/O above the assumption) are
noted per line, not guessed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.bluegreen.migration.plugins.module_utils.inputs import INPUT_DEFAULTS
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import CATALOGUE

HOURS_PER_MONTH = 730
PRICE_REGION = "us-east-1"
PRICE_DATE = "2025-06"
CURRENCY = "USD"

PRICE_SOURCES = {
    "nat_gateway": "https://aws.amazon.com/vpc/pricing/",
    "alb": "https://aws.amazon.com/elasticloadbalancing/pricing/",
    "fargate": "https://aws.amazon.com/fargate/pricing/",
    "aurora": "https://aws.amazon.com/rds/aurora/pricing/",
    "vpc_endpoints": "https://aws.amazon.com/privatelink/pricing/",
    "public_ipv4": "https://aws.amazon.com/vpc/pricing/",
    "secrets": "https://aws.amazon.com/secrets-manager/pricing/",
    "alarms": "https://aws.amazon.com/cloudwatch/pricing/",
    "logs": "https://aws.amazon.com/cloudwatch/pricing/",
    "kms": "https://aws.amazon.com/kms/pricing/",
}

# us-east-1 on-demand list prices, USD.
PRICES = {
    "nat_gateway_hour": 0.045,
    "nat_gateway_gb": 0.045,
    "alb_hour": 0.0225,
    "alb_lcu_hour": 0.008,
    "fargate_vcpu_hour": 0.04048,  # Linux/x86_64
    "fargate_gb_hour": 0.004445,
    "aurora_storage_gb_month": 0.10,  # Aurora Standard
    "aurora_io_million": 0.20,
    "vpc_endpoint_az_hour": 0.01,  # interface endpoint, per AZ
    "vpc_endpoint_gb": 0.01,
    "public_ipv4_hour": 0.005,
    "secret_month": 0.40,
    "alarm_month": 0.10,  # standard resolution, one metric
    "log_ingest_gb": 0.50,
    "log_storage_gb_month": 0.03,
    "kms_key_month": 1.00,
}

# Aurora PostgreSQL, Aurora Standard storage configuration, per instance-hour.
AURORA_INSTANCE_HOUR = {
    "db.t3.medium": 0.082,
    "db.t3.large": 0.164,
    "db.t4g.medium": 0.073,
    "db.t4g.large": 0.146,
    "db.r5.large": 0.29,
    "db.r6g.large": 0.26,
    "db.r6g.xlarge": 0.519,
    "db.r6i.large": 0.29,
    "db.r7g.large": 0.276,
}
# Aurora Serverless v2 is billed per ACU-hour; see ASSUMPTIONS["serverless_acus"].
AURORA_SERVERLESS_ACU_HOUR = 0.12

# Endpoint services AWS offers as gateway endpoints: no hourly charge.
GATEWAY_ENDPOINT_SERVICES = ("s3", "dynamodb")

# Every alarm of an environment has a name in the naming catalogue (3 kinds x 2 colors of the
# ecs_service role, CPU and memory of the aurora role): count them there.
ALARM_COUNT = sum(1 for dummy, kind in CATALOGUE.values() if kind == "alarm")

# What the estimate cannot read from the inventory; override per call.
ASSUMPTIONS = {
    "alb_lcu": 1.0,  # a lightly used ALB stays within one LCU
    "aurora_storage_gb": 5.0,  # a small schema with little data
    "aurora_io_million": 1.0,  # I/O requests per month, millions
    "serverless_acus": 1.0,  # average ACUs of a db.serverless instance
    "alarm_count": ALARM_COUNT,
    "log_ingest_gb": 1.0,  # application and migrator logs per month
    "never_expire_months": 12,  # how many months of logs a never-expiring group holds
    "secret_count": 1,  # the Aurora master credentials
}

# Variables the estimate reads; undefined ones take the collection's defaults.
ESTIMATE_INPUTS = (
    "aws_region",
    "network_az_count",
    "network_nat_gateways",
    "network_vpc_endpoints",
    "ecs_service_cpu",
    "ecs_service_memory",
    "ecs_service_desired_count",
    "ecs_service_log_retention_days",
    "ecs_service_log_kms_key_id",
    "aurora_instance_class",
    "aurora_reader_count",
    "aurora_kms_key_id",
    "migrator_lambda_log_kms_key_id",
)
DEFAULTS = dict((name, INPUT_DEFAULTS[name]) for name in ESTIMATE_INPUTS)


def _money(value):
    return round(value + 0.0, 2)


def _int(value):
    if isinstance(value, bool):
        raise ValueError("boolean is not a count")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError("%r is not a whole number" % (value,))


def _line(component, quantity, unit, unit_price, monthly, detail):
    return {
        "component": component,
        "quantity": quantity,
        "unit": unit,
        "unit_price_usd": unit_price,
        "monthly_usd": _money(monthly),
        "detail": detail,
    }


def nat_gateway_count(variables):
    """NAT gateways the network role creates: one, or one per AZ."""
    return _int(variables["network_az_count"]) if variables["network_nat_gateways"] == "per_az" else 1


def interface_endpoints(variables):
    """The listed endpoint services that are billed (interface endpoints), in list order."""
    return [s for s in (variables.get("network_vpc_endpoints") or []) if s not in GATEWAY_ENDPOINT_SERVICES]


def endpoint_monthly(az_count):
    """Monthly hourly charge of one interface endpoint spread over az_count AZs."""
    return _money(PRICES["vpc_endpoint_az_hour"] * HOURS_PER_MONTH * az_count)


def _nat(v, a):
    count = nat_gateway_count(v)
    return [
        _line(
            "nat_gateway",
            count,
            "NAT gateway-hour",
            PRICES["nat_gateway_hour"],
            count * PRICES["nat_gateway_hour"] * HOURS_PER_MONTH,
            "%d x %s/h x %dh (%s); plus $%s per GB processed"
            % (count, PRICES["nat_gateway_hour"], HOURS_PER_MONTH, v["network_nat_gateways"], PRICES["nat_gateway_gb"]),
        )
    ]


def _alb(v, a):
    hours = PRICES["alb_hour"] * HOURS_PER_MONTH
    lcu = a["alb_lcu"] * PRICES["alb_lcu_hour"] * HOURS_PER_MONTH
    return [
        _line("alb", 1, "ALB-hour", PRICES["alb_hour"], hours, "1 x %s/h x %dh" % (PRICES["alb_hour"], HOURS_PER_MONTH)),
        _line(
            "alb_lcu",
            a["alb_lcu"],
            "LCU-hour",
            PRICES["alb_lcu_hour"],
            lcu,
            "%s LCU x %s/h x %dh (minimum; more traffic, more LCUs)" % (a["alb_lcu"], PRICES["alb_lcu_hour"], HOURS_PER_MONTH),
        ),
    ]


def _fargate(v, a):
    tasks = _int(v["ecs_service_desired_count"])
    vcpu = _int(v["ecs_service_cpu"]) / 1024.0
    gb = _int(v["ecs_service_memory"]) / 1024.0
    per_task = vcpu * PRICES["fargate_vcpu_hour"] * HOURS_PER_MONTH + gb * PRICES["fargate_gb_hour"] * HOURS_PER_MONTH
    return [
        _line(
            "fargate",
            tasks,
            "task-month",
            round(per_task, 4),
            tasks * per_task,
            "%d task(s) of the live color x (%s vCPU x %s + %s GB x %s) x %dh; the idle color runs 0 tasks"
            % (tasks, vcpu, PRICES["fargate_vcpu_hour"], gb, PRICES["fargate_gb_hour"], HOURS_PER_MONTH),
        )
    ]


def _aurora(v, a):
    instance_class = v["aurora_instance_class"]
    count = 1 + _int(v["aurora_reader_count"])
    if instance_class == "db.serverless":
        hourly = AURORA_SERVERLESS_ACU_HOUR * a["serverless_acus"]
        how = "%s ACU x %s/ACU-h" % (a["serverless_acus"], AURORA_SERVERLESS_ACU_HOUR)
    elif instance_class in AURORA_INSTANCE_HOUR:
        hourly = AURORA_INSTANCE_HOUR[instance_class]
        how = "%s/h" % hourly
    else:
        raise LookupError("no price for aurora_instance_class=%s; known: %s" % (instance_class, ", ".join(sorted(AURORA_INSTANCE_HOUR) + ["db.serverless"])))
    storage = a["aurora_storage_gb"] * PRICES["aurora_storage_gb_month"] + a["aurora_io_million"] * PRICES["aurora_io_million"]
    return [
        _line(
            "aurora_instances",
            count,
            "instance-hour",
            hourly,
            count * hourly * HOURS_PER_MONTH,
            "(1 writer + %d readers) x %s %s x %dh" % (count - 1, instance_class, how, HOURS_PER_MONTH),
        ),
        _line(
            "aurora_storage",
            a["aurora_storage_gb"],
            "GB-month",
            PRICES["aurora_storage_gb_month"],
            storage,
            "%s GB x %s + %sM I/O x %s (assumed)"
            % (a["aurora_storage_gb"], PRICES["aurora_storage_gb_month"], a["aurora_io_million"], PRICES["aurora_io_million"]),
        ),
    ]


def _endpoints(v, a):
    az_count = _int(v["network_az_count"])
    lines = []
    for service in v.get("network_vpc_endpoints") or []:
        if service in GATEWAY_ENDPOINT_SERVICES:
            lines.append(_line("vpc_endpoint:%s" % service, 1, "gateway endpoint", 0.0, 0.0, "gateway endpoint: no charge"))
        else:
            lines.append(
                _line(
                    "vpc_endpoint:%s" % service,
                    az_count,
                    "endpoint AZ-hour",
                    PRICES["vpc_endpoint_az_hour"],
                    endpoint_monthly(az_count),
                    "interface endpoint in %d AZs x %s/h x %dh; plus $%s per GB"
                    % (az_count, PRICES["vpc_endpoint_az_hour"], HOURS_PER_MONTH, PRICES["vpc_endpoint_gb"]),
                )
            )
    return lines


def _public_ipv4(v, a):
    nats = nat_gateway_count(v)
    alb_nodes = _int(v["network_az_count"])
    count = nats + alb_nodes
    return [
        _line(
            "public_ipv4",
            count,
            "address-hour",
            PRICES["public_ipv4_hour"],
            count * PRICES["public_ipv4_hour"] * HOURS_PER_MONTH,
            "%d NAT Elastic IP(s) + %d internet-facing ALB node(s) x %s/h x %dh" % (nats, alb_nodes, PRICES["public_ipv4_hour"], HOURS_PER_MONTH),
        )
    ]


def _small(v, a):
    retention = v.get("ecs_service_log_retention_days")
    months = a["never_expire_months"] if not retention else min(_int(retention) / 30.0, a["never_expire_months"])
    stored = a["log_ingest_gb"] * months
    keys = set(k for k in (v.get("ecs_service_log_kms_key_id"), v.get("migrator_lambda_log_kms_key_id"), v.get("aurora_kms_key_id")) if k)
    lines = [
        _line("secrets", a["secret_count"], "secret-month", PRICES["secret_month"], a["secret_count"] * PRICES["secret_month"], "Aurora master credentials"),
        _line(
            "alarms",
            a["alarm_count"],
            "alarm-month",
            PRICES["alarm_month"],
            a["alarm_count"] * PRICES["alarm_month"],
            "standard-resolution alarms of the naming catalogue",
        ),
        _line(
            "logs",
            a["log_ingest_gb"],
            "GB ingested",
            PRICES["log_ingest_gb"],
            a["log_ingest_gb"] * PRICES["log_ingest_gb"] + stored * PRICES["log_storage_gb_month"],
            "%s GB/month x %s ingest + %.1f GB stored (retention %s days) x %s"
            % (a["log_ingest_gb"], PRICES["log_ingest_gb"], stored, retention or "never-expire", PRICES["log_storage_gb_month"]),
        ),
    ]
    if keys:
        lines.append(
            _line(
                "kms_keys", len(keys), "key-month", PRICES["kms_key_month"], len(keys) * PRICES["kms_key_month"], "customer managed keys named in the inventory"
            )
        )
    return lines


COMPONENTS = (_nat, _alb, _fargate, _aurora, _endpoints, _public_ipv4, _small)


def estimate(variables, assumptions=None):
    """Monthly estimate: {components: [lines], total_monthly_usd, unpriced: [reasons], ...}.

    `variables` are the environment's inventory variables (missing ones take DEFAULTS);
    a component whose inputs are invalid is listed in `unpriced` instead of failing, so the
    estimate can be shown next to the preflight findings that explain why.
    """
    values = dict(DEFAULTS)
    values.update(variables or {})
    assumed = dict(ASSUMPTIONS)
    assumed.update(assumptions or {})
    lines = []
    unpriced = []
    for component in COMPONENTS:
        try:
            lines.extend(component(values, assumed))
        except (KeyError, LookupError, TypeError, ValueError) as e:
            unpriced.append("%s: %s" % (component.__name__.lstrip("_"), e))
    region = values.get("aws_region") or PRICE_REGION
    return {
        "currency": CURRENCY,
        "region": region,
        "price_region": PRICE_REGION,
        "price_date": PRICE_DATE,
        "hours_per_month": HOURS_PER_MONTH,
        "components": lines,
        "total_monthly_usd": _money(sum(line["monthly_usd"] for line in lines)),
        "unpriced": unpriced,
        "assumptions": assumed,
        "note": "" if region == PRICE_REGION else "priced with %s list prices; %s usually costs the same or more" % (PRICE_REGION, region),
    }


def component_total(report, prefix):
    """Sum of the lines whose component starts with prefix (e.g. 'vpc_endpoint:')."""
    return _money(sum(line["monthly_usd"] for line in report["components"] if line["component"].startswith(prefix)))


def format_table(report):
    """The estimate as a Markdown table (component, quantity, monthly USD, how)."""
    rows = ["| component | quantity | monthly USD | how |", "|---|---:|---:|---|"]
    for line in report["components"]:
        rows.append("| %s | %s | %.2f | %s |" % (line["component"], line["quantity"], line["monthly_usd"], line["detail"]))
    rows.append("| **total** | | **%.2f** | %s list prices of %s |" % (report["total_monthly_usd"], report["price_region"], report["price_date"]))
    return "\n".join(rows)
