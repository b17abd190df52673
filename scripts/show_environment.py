"""Print what one environment has in the AWS account the environment points at,
found by the bluegreen:environment tag and the collection's names (read-only)."""

import sys

import boto3

TAG = "bluegreen:environment"


def main(suffix):
    ec2 = boto3.client("ec2")
    env_filter = [{"Name": f"tag:{TAG}", "Values": [suffix]}]
    rows = []
    for vpc in ec2.describe_vpcs(Filters=env_filter)["Vpcs"]:
        rows.append(("VPC", vpc["VpcId"], vpc["CidrBlock"]))
    tiers = {"public": 0, "private": 1, "isolated": 2}

    def tier_then_zone(subnet):
        tags = {t["Key"]: t["Value"] for t in subnet.get("Tags", [])}
        return tiers.get(tags.get("bluegreen:tier"), 3), subnet["AvailabilityZone"]

    for subnet in sorted(ec2.describe_subnets(Filters=env_filter)["Subnets"], key=tier_then_zone):
        tags = {t["Key"]: t["Value"] for t in subnet.get("Tags", [])}
        rows.append(("subnet", subnet["SubnetId"], f"{tags.get('Name')} {subnet['CidrBlock']} {subnet['AvailabilityZone']}"))
    for nat in ec2.describe_nat_gateways(Filters=env_filter)["NatGateways"]:
        if nat["State"] in ("pending", "available"):
            rows.append(("NAT gateway", nat["NatGatewayId"], nat["SubnetId"]))
    for group in ec2.describe_security_groups(Filters=env_filter)["SecurityGroups"]:
        rows.append(("security group", group["GroupId"], group["GroupName"]))
    tagging = boto3.client("resourcegroupstaggingapi")
    seen = {row[1] for row in rows}
    for page in tagging.get_paginator("get_resources").paginate(TagFilters=[{"Key": TAG, "Values": [suffix]}]):
        for item in page["ResourceTagMappingList"]:
            arn = item["ResourceARN"]
            if not any(known in arn for known in seen):
                rows.append((arn.split(":")[2], arn, ""))
    width = max((len(r[0]) for r in rows), default=0)
    for kind, ident, detail in rows:
        print(f"  {kind:<{width}}  {ident}  {detail}".rstrip())
    if not rows:
        print(f"  nothing tagged {TAG}={suffix}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "local")
