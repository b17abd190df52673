# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Rule 5 and the emulator guard: the shared inputs (suffix, region, disposable, tags) and the
names built from them, and no emulator inventory run against a non-loopback endpoint.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.bluegreen.migration.plugins.module_utils.naming import REGION_PATTERN, NamingError, resource_names, validate_suffix
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import RESERVED_TAG_PREFIXES, TAG_LIMIT
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import as_bool


# --- Guard -------------------------------------------------------------------------------


def loopback_endpoint(url):
    """True when url is http://<loopback>[:port][/...]."""
    match = re.match(r"^http://(\[[^\]]+\]|[^/:]+)(:\d+)?(/.*)?$", url or "")
    if not match:
        return False
    host = match.group(1).strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_emulator_guard(f, environ):
    if not as_bool(f.variables.get("bluegreen_emulator") or False):
        return True
    url = (environ or {}).get("AWS_ENDPOINT_URL", "")
    if loopback_endpoint(url):
        return True
    f.error(
        "bluegreen_emulator",
        "emulator_guard",
        "this inventory targets the local emulator but AWS_ENDPOINT_URL=%s is not a loopback http URL, so the run could reach real AWS" % (url or "(unset)"),
        "start the emulator and export its environment (python scripts/emulator.py env), or use an inventory for real AWS",
    )
    return False


# --- Shared inputs and names (rule 5) ------------------------------------------------------


def check_environment(f):
    suffix = f.variables.get("environment_suffix")
    names = {}
    region = f.variables.get("aws_region")
    region_ok = isinstance(region, str) and bool(REGION_PATTERN.match(region))
    try:
        validate_suffix(suffix)
        # IAM role names also carry the region; a bad region is reported below, by its own rule.
        names = resource_names(suffix, region if region_ok else "us-east-1")
    except NamingError as e:
        f.error(
            "environment_suffix", "names", str(e), "choose a suffix of lowercase letters, digits and single hyphens, starting with a letter (e.g. dev, pr-42)"
        )
    if not region_ok:
        f.error(
            "aws_region", "region", "aws_region must be a region code like us-east-1", "set aws_region to the region to deploy to (e.g. us-east-1, eu-west-1)"
        )
    # environment_disposable (bool) and the shape of bluegreen_tags (dict): the spec rule.
    tags = f.variables.get("bluegreen_tags")
    if isinstance(tags, dict):
        if len(tags) > TAG_LIMIT - 3:
            f.error(
                "bluegreen_tags",
                "tags",
                "%d tags plus the 3 the collection adds exceed AWS's %d per resource" % (len(tags), TAG_LIMIT),
                "keep at most %d entries" % (TAG_LIMIT - 3),
            )
        for key, value in tags.items():
            if not isinstance(key, str) or not key or len(key) > 128:
                f.error("bluegreen_tags", "tags", "tag key %r must be a string of 1 to 128 characters" % (key,), "shorten or rename the key")
            elif key.lower().startswith(RESERVED_TAG_PREFIXES):
                f.error(
                    "bluegreen_tags", "tags", "tag key %r uses a reserved prefix (aws: is AWS's, bluegreen: is set by the collection)" % key, "rename the key"
                )
            if isinstance(value, (dict, list)) or (value is not None and len(str(value)) > 256):
                f.error("bluegreen_tags", "tags", "tag %r must have a scalar value of at most 256 characters" % (key,), "use a short string value")
    return names
