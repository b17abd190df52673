# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Thin Secrets Manager client layer: one function per API call, each retried with
backoff; a secret that does not exist comes back as None instead of an exception. And the
plan of a credentials secret from DescribeSecret alone: its value is never read to plan.

The value's non-secret keys are known without reading it from one tag, FIELDS_TAG, that the
writer (secretsmanager_secret) sets each time it writes or checks the value:
`<SHA-256 of those keys>@<version id>`. When the tag names the current version (AWSCURRENT)
and the digest of the wanted keys, the value holds them and a password; any other write of the
value (by hand, by a rotation) makes a new version, and the next run reads the value once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import random
import time

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import tag_drift
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import change
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import created
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import field
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import update_or_nothing


class SecretsManagerError(AnsibleAWSError):
    """A failed Secrets Manager call; carries the botocore exception for fail_json_aws."""


class SecretsManagerErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = SecretsManagerError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


@SecretsManagerErrorHandler.list_error_handler("describe secret {name}", None)
@aws_retry()
def describe_secret(client, name):
    return client.describe_secret(SecretId=name)


@SecretsManagerErrorHandler.list_error_handler("read the value of secret {name}", None)
@aws_retry()
def get_secret_string(client, name):
    """The current SecretString (the caller must keep it out of every result)."""
    return client.get_secret_value(SecretId=name).get("SecretString")


@SecretsManagerErrorHandler.common_error_handler("generate a random password")
@aws_retry()
def get_random_password(client, length, exclude_punctuation=True):
    return client.get_random_password(PasswordLength=length, ExcludePunctuation=exclude_punctuation)["RandomPassword"]


# Seconds CreateSecret waits for the name of a force-deleted secret to be free again.
NAME_FREE_TIMEOUT = 300


# Seconds a secret just created may take to be described: Secrets Manager is eventually
# consistent, and DescribeSecret may answer ResourceNotFoundException (or the previous state) for
# a while after CreateSecret.
NEW_SECRET_TIMEOUT = 120

# CreateSecret's words while a secret of that name is deleted without recovery and still being
# removed (asynchronously: API_DeleteSecret, ForceDeleteWithoutRecovery), or scheduled for deletion.
NAME_TAKEN_MESSAGES = ("scheduled for deletion", "because it was deleted")


def name_still_taken(error):
    """True for the refusal CreateSecret answers while a deleted secret of that name is still
    being removed."""
    details = error.response.get("Error", {})
    message = details.get("Message", "")
    return details.get("Code") == "InvalidRequestException" and any(words in message for words in NAME_TAKEN_MESSAGES)


def _back_off(attempt, deadline, sleep, clock):
    """Sleep a jittered, growing delay (at most 20 s), never past the deadline."""
    sleep(min(max(0.0, deadline - clock()), random.uniform(1, min(20, 2**attempt))))  # noqa: S311 (jitter, not a secret)


def when_name_free(call, timeout=NAME_FREE_TIMEOUT, sleep=time.sleep, clock=time.monotonic):
    """call(), retried with jittered backoff while the name is still taken (bounded by timeout)."""
    deadline = clock() + timeout
    attempt = 0
    while True:
        try:
            return call()
        except botocore.exceptions.ClientError as e:
            if not name_still_taken(e) or clock() >= deadline:
                raise
        attempt += 1
        _back_off(attempt, deadline, sleep, clock)


def when_described(client, name, version_id, timeout=NEW_SECRET_TIMEOUT, sleep=time.sleep, clock=time.monotonic):
    """DescribeSecret of the secret `name` just created or given a value, once it names
    `version_id` AWSCURRENT (the value a later GetSecretValue reads); None if it does not within
    `timeout` seconds."""
    deadline = clock() + timeout
    attempt = 0
    while True:
        found = describe_secret(client, name)
        if found and current_version(found) == version_id:
            return found
        if clock() >= deadline:
            return None
        attempt += 1
        _back_off(attempt, deadline, sleep, clock)


@SecretsManagerErrorHandler.common_error_handler("create secret {name}")
@aws_retry()
def create_secret(client, name, secret_string, description=None, kms_key_id=None, tags=None, version_id=None):
    params = {"Name": name, "SecretString": secret_string}
    if version_id:
        params["ClientRequestToken"] = version_id
    if description:
        params["Description"] = description
    if kms_key_id:
        params["KmsKeyId"] = kms_key_id
    if tags:
        params["Tags"] = tags
    return when_name_free(lambda: client.create_secret(**params))


@SecretsManagerErrorHandler.common_error_handler("store a new value in secret {name}")
@aws_retry()
def put_secret_string(client, name, secret_string, version_id=None):
    params = {"SecretId": name, "SecretString": secret_string}
    if version_id:
        params["ClientRequestToken"] = version_id
    return client.put_secret_value(**params)


@SecretsManagerErrorHandler.common_error_handler("update secret {name}")
@aws_retry()
def update_secret_settings(client, name, description=None, kms_key_id=None):
    params = {"SecretId": name}
    if description is not None:
        params["Description"] = description
    if kms_key_id is not None:
        params["KmsKeyId"] = kms_key_id
    return client.update_secret(**params)


@SecretsManagerErrorHandler.common_error_handler("restore secret {name}")
@aws_retry()
def restore_secret(client, name):
    """True once restored; False when AWS refuses because the secret was deleted without
    recovery (only its name lingers until the asynchronous deletion ends)."""
    try:
        client.restore_secret(SecretId=name)
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("InvalidRequestException", "ResourceNotFoundException"):
            return False
        raise
    return True


@SecretsManagerErrorHandler.deletion_error_handler("delete secret {name}")
@aws_retry()
def delete_secret(client, name, recovery_window_days):
    if recovery_window_days == 0:
        client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    else:
        client.delete_secret(SecretId=name, RecoveryWindowInDays=recovery_window_days)
    return True


@SecretsManagerErrorHandler.common_error_handler("tag secret {name}")
@aws_retry()
def tag_secret(client, name, tags):
    return client.tag_resource(SecretId=name, Tags=tags)


@SecretsManagerErrorHandler.common_error_handler("untag secret {name}")
@aws_retry()
def untag_secret(client, name, tag_keys):
    return client.untag_resource(SecretId=name, TagKeys=tag_keys)


# --- What the value holds, from DescribeSecret alone -----------------------------------------

FIELDS_TAG = "bluegreen:fields"
RESOURCE = "credentials secret"


def fields_digest(fields):
    """SHA-256 of the non-secret keys (never the password: the writer refuses it in `fields`)."""
    return hashlib.sha256(json.dumps(fields or {}, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def fields_marker(fields, version_id):
    """The value of FIELDS_TAG for a value holding `fields` (and a password) at `version_id`."""
    return "%s@%s" % (fields_digest(fields), version_id)


def current_version(description):
    """Id of the AWSCURRENT version of the value, or None."""
    for version_id, stages in ((description or {}).get("VersionIdsToStages") or {}).items():
        if "AWSCURRENT" in stages:
            return version_id
    return None


def secret_tags(description):
    """The secret's tags without FIELDS_TAG (the writer keeps that one itself)."""
    tags = boto3_tag_list_to_ansible_dict((description or {}).get("Tags") or [])
    tags.pop(FIELDS_TAG, None)
    return tags


def value_drift(description, fields):
    """None when FIELDS_TAG says the current value holds `fields` and a password (any fields,
    when `fields` is empty), else why the value has to be read."""
    marker = boto3_tag_list_to_ansible_dict(description.get("Tags") or []).get(FIELDS_TAG)
    if not marker:
        return "not recorded"
    digest, dummy, version_id = marker.partition("@")
    if version_id != current_version(description):
        return "changed since recorded"
    if fields and digest != fields_digest(fields):
        return "other keys or values"
    return None


def secret_view(description):
    """What a plan shows of the secret (no value): arn, name, description, kms_key_id, tags,
    version_id, deleted; empty when there is none."""
    if description is None:
        return {}
    return {
        "arn": description.get("ARN"),
        "name": description.get("Name"),
        "description": description.get("Description", ""),
        "kms_key_id": description.get("KmsKeyId", ""),
        "tags": secret_tags(description),
        "version_id": current_version(description),
        "deleted": bool(description.get("DeletedDate")),
    }


def plan_secret(wanted, description):
    """(changes, apply) of a credentials secret from its DescribeSecret answer. `wanted`:
    {name, description, kms_key_id, fields, tags} as secretsmanager_secret is given them (None:
    left alone). The value is compared through FIELDS_TAG, never read."""
    name = wanted["name"]
    if description is None or description.get("DeletedDate"):
        desired = {"description": wanted.get("description"), "kms_key_id": wanted.get("kms_key_id"), "tags": wanted.get("tags")}
        desired = dict((key, value) for key, value in desired.items() if value is not None)
        desired["fields"] = wanted.get("fields") or {}
        desired["password_set"] = True  # generated by Secrets Manager, never shown
        reason = "no secret of that name" if description is None else "scheduled for deletion: restored"
        return [change(RESOURCE, name, "create", created(desired), reason)], True
    drift = {}
    for key, found in (("description", description.get("Description")), ("kms_key_id", description.get("KmsKeyId"))):
        if wanted.get(key) is not None and wanted[key] != found:
            drift[key] = field(found, wanted[key])
    tags = tag_drift(secret_tags(description), wanted.get("tags"))
    if tags:
        drift["tags"] = tags
    why = value_drift(description, wanted.get("fields") or {})
    if why:
        drift["fields"] = field("(%s)" % why, wanted.get("fields") or {})
    return update_or_nothing(RESOURCE, name, drift)
