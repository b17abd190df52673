# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Thin Secrets Manager client layer: one function per API call, each retried with
backoff; a secret that does not exist comes back as None instead of an exception."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry


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


def name_still_taken(error):
    """True for the refusal CreateSecret answers while a force-deleted secret of that name is
    still being removed: AWS deletes it asynchronously (API_DeleteSecret, ForceDeleteWithoutRecovery)."""
    details = error.response.get("Error", {})
    return details.get("Code") == "InvalidRequestException" and "scheduled for deletion" in details.get("Message", "")


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
        sleep(min(max(0.0, deadline - clock()), random.uniform(1, min(20, 2**attempt))))  # noqa: S311 (jitter, not a secret)


@SecretsManagerErrorHandler.common_error_handler("create secret {name}")
@aws_retry()
def create_secret(client, name, secret_string, description=None, kms_key_id=None, tags=None):
    params = {"Name": name, "SecretString": secret_string}
    if description:
        params["Description"] = description
    if kms_key_id:
        params["KmsKeyId"] = kms_key_id
    if tags:
        params["Tags"] = tags
    return when_name_free(lambda: client.create_secret(**params))


@SecretsManagerErrorHandler.common_error_handler("store a new value in secret {name}")
@aws_retry()
def put_secret_string(client, name, secret_string):
    return client.put_secret_value(SecretId=name, SecretString=secret_string)


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
