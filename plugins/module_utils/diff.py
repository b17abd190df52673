# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Comparison helpers shared by our modules: normalise what AWS echoes back, find the
differences between desired and current state (with readable reasons) and plan tag changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags


def strip_empty(value):
    """Drop None, empty lists and empty dicts recursively (AWS adds empty containers freely)."""
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            item = strip_empty(item)
            if item is None or item == [] or item == {}:
                continue
            cleaned[key] = item
        return cleaned
    if isinstance(value, (list, tuple)):
        return [strip_empty(item) for item in value if item is not None]
    return value


def sorted_by(items, *keys):
    """A copy of a list of dicts sorted on the given keys (missing keys sort first)."""
    return sorted(items or [], key=lambda item: tuple(str(item.get(k, "")) for k in keys))


def differences(desired, current, path="", symmetric=False):
    """Readable differences where `desired` does not match `current`.

    By default only keys present in `desired` are compared (a key AWS adds on its own side
    is not a difference); with symmetric=True a key only `current` has is a difference too
    (use it on two normalised documents). Lists are compared element by element, so sort
    them first where order carries no meaning.
    """
    found = []
    if isinstance(desired, dict) and isinstance(current, dict):
        keys = set(desired) | set(current) if symmetric else set(desired)
        for key in sorted(keys, key=str):
            sub = f"{path}.{key}" if path else str(key)
            found.extend(differences(desired.get(key), current.get(key), sub, symmetric))
        return found
    if isinstance(desired, list) and isinstance(current, list) and len(desired) == len(current):
        for index, (want, have) in enumerate(zip(desired, current, strict=True)):
            found.extend(differences(want, have, f"{path}[{index}]", symmetric))
        return found
    if desired != current:
        found.append(f"{path or 'value'}: {current!r} -> {desired!r}")
    return found


def plan_tags(current_tags, desired_tags, purge_tags=True, keep=()):
    """(to_set, to_unset) for a resource's tags, following the amazon.aws contract:
    desired_tags None leaves the tags alone. Keys in `keep` are never purged."""
    if desired_tags is None:
        return {}, []
    to_set, to_unset = compare_aws_tags(current_tags or {}, desired_tags, purge_tags=purge_tags)
    return to_set, [key for key in to_unset if key not in keep]


def tag_drift(current_tags, desired_tags, purge_tags=True):
    """{before, after} of a resource's tags when plan_tags() would change them, else None."""
    to_set, to_unset = plan_tags(current_tags, desired_tags, purge_tags)
    if not (to_set or to_unset):
        return None
    return {"before": current_tags, "after": apply_tag_plan(current_tags, to_set, to_unset)}


def apply_tag_plan(current_tags, to_set, to_unset):
    """The tags a resource will carry once a plan is applied (for diff and check mode)."""
    result = {k: v for k, v in (current_tags or {}).items() if k not in to_unset}
    result.update({k: str(v) for k, v in to_set.items()})
    return result
