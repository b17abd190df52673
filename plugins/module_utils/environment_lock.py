# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The environment lock: one operation at a time per environment, held in AWS.

One DynamoDB table per account and region (naming.shared_resource_name("lock_table")), one item
per environment keyed by its suffix. Taking the lock is a conditional PutItem (no item, or an
expired one), so of two runs racing for it DynamoDB lets exactly one write; releasing is a
DeleteItem conditioned on the run's own token, so a run never releases another run's lock.

The decisions (conditions, records, messages, expiry) are plain functions, unit-tested on
recorded answers; the client layer below wraps each call in aws_retry (jittered backoff).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry

KEY = "pk"
# Fields of a lock record, stored as DynamoDB strings, except the two epoch numbers.
TEXT_FIELDS = ("holder", "job", "host", "playbook", "operation", "token")
NUMBER_FIELDS = ("started_at", "expires_at")

BREAK_HINT = "-e bluegreen_lock_break=true"

# DynamoDB's own throttling code (on-demand tables throttle a hot partition with it too):
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
THROTTLED = ("ProvisionedThroughputExceededException",)
# CreateTable refused while too many tables are being created or deleted at once.
CREATE_REFUSED = THROTTLED + ("LimitExceededException",)


class LockError(AnsibleAWSError):
    pass


class LockErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = LockError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


class LockHeld(Exception):
    """The conditional write was refused: another run holds the lock (or changed it meanwhile).
    `record` is the lock DynamoDB returned with the refusal (ReturnValuesOnConditionCheckFailure),
    None when it returned none."""

    def __init__(self, record=None):
        super(LockHeld, self).__init__("the lock is held")
        self.record = record


class TableMissing(Exception):
    """The lock table does not exist (yet): the first lock of the account and region."""


# --- time


def iso(epoch):
    """2026-12-02T19:00:00Z of an epoch second (UTC), '' for None."""
    if epoch is None:
        return ""
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds):
    """'45 s', '12 min', '3 h 5 min' of a number of seconds (never negative)."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return "%d s" % seconds
    minutes = seconds // 60
    if minutes < 120:
        return "%d min" % minutes
    return "%d h %d min" % (minutes // 60, minutes % 60)


def is_expired(record, now):
    """True when the lock's expiry has passed: the next run may take it without breaking it
    (the same test as take_condition's `expires_at < :now`)."""
    return record is not None and int(record["expires_at"]) < int(now)


# --- records and items


def new_record(suffix, holder, job, host, playbook, operation, token, now, ttl_seconds):
    return {
        "environment": suffix,
        "holder": holder,
        "job": job or "",
        "host": host or "",
        "playbook": playbook or "",
        "operation": operation or "",
        "token": token,
        "started_at": int(now),
        "expires_at": int(now) + int(ttl_seconds),
    }


def to_item(record):
    """The DynamoDB item (typed attribute values) of a lock record."""
    item = {KEY: {"S": record["environment"]}}
    for name in TEXT_FIELDS:
        if record.get(name):
            item[name] = {"S": str(record[name])}
    for name in NUMBER_FIELDS:
        item[name] = {"N": str(int(record[name]))}
    return item


def from_item(item):
    """The lock record of a DynamoDB item, None for no item; missing fields read as empty."""
    if not item:
        return None
    record = {"environment": item[KEY]["S"]}
    for name in TEXT_FIELDS:
        record[name] = item.get(name, {}).get("S", "")
    for name in NUMBER_FIELDS:
        record[name] = int(float(item.get(name, {}).get("N", "0")))
    return record


def shown(record, now=None):
    """The record as the module returns it: the fields, the times also as ISO dates, and
    whether it has expired (the token is kept: it is what releases the lock, not a secret)."""
    if record is None:
        return None
    result = dict(record, started=iso(record["started_at"]), expires=iso(record["expires_at"]))
    if now is not None:
        result["expired"] = is_expired(record, now)
    return result


# --- conditions


def take_condition(now):
    """(ConditionExpression, values) of a normal take: no lock, or an expired one."""
    return "attribute_not_exists(%s) OR expires_at < :now" % KEY, {":now": {"N": str(int(now))}}


def break_condition(current):
    """Of a take-over: the lock is still the one that was read (its token), or there is still
    none; two runs breaking the same lock at once cannot both win."""
    if current is None:
        return "attribute_not_exists(%s)" % KEY, {}
    return "#token = :seen", {":seen": {"S": current["token"]}}


def owner_condition(token):
    """Of a release or renewal: the lock is still this run's."""
    return "#token = :token", {":token": {"S": token}}


def expression_names(expression):
    """ExpressionAttributeNames for an expression (token is no reserved word today; the alias
    keeps it safe if DynamoDB makes it one)."""
    return {"#token": "token"} if "#token" in expression else {}


# --- messages


def who(record):
    """'alice (AWX job 42) on controller-1' of a record."""
    text = record.get("holder") or "an unknown holder"
    if record.get("job"):
        text += " (%s)" % record["job"]
    if record.get("host"):
        text += " on %s" % record["host"]
    return text


def what(record):
    """'playbook "Roll out a new version", rollout' of a record."""
    parts = []
    if record.get("playbook"):
        parts.append('playbook "%s"' % record["playbook"])
    if record.get("operation"):
        parts.append(record["operation"])
    return ", ".join(parts) or "unknown playbook"


def held_message(record, now):
    """Why a take was refused, and how to break the lock when its run is gone."""
    return (
        "environment %s is locked by %s since %s (%s ago, %s); the lock expires at %s (in %s). "
        "Wait for that run to finish; if it is gone (killed, crashed) and nothing else changes the environment, "
        "take the lock over with %s. Nothing was changed."
        % (
            record["environment"],
            who(record),
            iso(record["started_at"]),
            duration(now - record["started_at"]),
            what(record),
            iso(record["expires_at"]),
            duration(record["expires_at"] - now),
            BREAK_HINT,
        )
    )


def taken_message(record, previous, broke, now):
    """What a successful take did, naming the lock it replaced."""
    text = "locked environment %s for %s until %s" % (record["environment"], who(record), iso(record["expires_at"]))
    if previous is None:
        return text
    if broke and not is_expired(previous, now):
        how = "broke the lock"
    else:
        how = "took over the expired lock (expired %s)" % iso(previous["expires_at"])
    return "%s; %s of %s since %s (%s)" % (text, how, who(previous), iso(previous["started_at"]), what(previous))


def status_line(record, now):
    """The one line of the status entry point."""
    if record is None:
        return "lock: free"
    line = "held by %s since %s (%s)" % (who(record), iso(record["started_at"]), what(record))
    if is_expired(record, now):
        return "lock: free (the lock %s expired at %s)" % (line, iso(record["expires_at"]))
    return "lock: %s, expires %s" % (line, iso(record["expires_at"]))


def holder_of(awx_user_name=None, awx_job_id=None, awx_schedule_name=None, user=None):
    """(holder, job) of a run: AWX's launching user (or schedule) and job id when AWX runs it,
    else the controller's user."""
    job = ("AWX job %s" % awx_job_id) if awx_job_id not in (None, "") else ""
    if awx_user_name:
        return awx_user_name, job
    if awx_schedule_name:
        return "schedule %s" % awx_schedule_name, job
    return user or "unknown", job


def plan_take(current, now, break_lock):
    """What a take does given the current record: 'take' (free, expired, or broken on request)
    or 'refuse' (held and not to be broken)."""
    if current is None or is_expired(current, now) or break_lock:
        return "take"
    return "refuse"


# --- the table


def table_spec(name, tags):
    """CreateTable parameters: one string key, on-demand capacity (nothing billed at rest)."""
    params = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": KEY, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": KEY, "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return params


@LockErrorHandler.list_error_handler("describe DynamoDB table {name}")
@aws_retry(extra_codes=THROTTLED)
def describe_table(client, name):
    """The table description, or None when there is no such table."""
    return client.describe_table(TableName=name)["Table"]


@LockErrorHandler.common_error_handler("create DynamoDB table {name}")
@aws_retry(extra_codes=CREATE_REFUSED)
def _create_table(client, name, tags):
    try:
        return client.create_table(**table_spec(name, tags))["TableDescription"]
    except client.exceptions.ResourceInUseException:
        # Another run created it first (the first use of a region by two runs at once).
        return None


def create_table(client, name, tags):
    """Creates the table; False when a concurrent creator was first (not an error)."""
    return _create_table(client, name, tags) is not None


@LockErrorHandler.common_error_handler("wait for DynamoDB table {name} to be ACTIVE")
def wait_for_table(client, name, timeout):
    """Blocks until the table is ACTIVE (CREATING takes seconds on AWS); botocore's waiter."""
    delay = 2
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": delay, "MaxAttempts": max(1, int(timeout) // delay)})
    return True


@LockErrorHandler.list_error_handler("read the lock of {suffix} in DynamoDB table {name}")
@aws_retry(extra_codes=THROTTLED)
def get_lock(client, name, suffix):
    """The environment's lock record (a strongly consistent read), or None."""
    answer = client.get_item(TableName=name, Key={KEY: {"S": suffix}}, ConsistentRead=True)
    return from_item(answer.get("Item"))


def _conditional(call, **params):
    """A conditional write; LockHeld when DynamoDB refuses the condition (never retried),
    TableMissing when there is no table. The write goes first, without reading the table or the
    item: a read is needed only to explain a refusal."""
    try:
        return call(**params)
    except is_boto3_error_code("ConditionalCheckFailedException") as e:
        raise LockHeld(from_item(e.response.get("Item"))) from None
    except is_boto3_error_code("ResourceNotFoundException"):
        raise TableMissing() from None


def _with_condition(params, condition):
    expression, values = condition
    params["ConditionExpression"] = expression
    if values:
        params["ExpressionAttributeValues"] = values
    names = expression_names(expression)
    if names:
        params["ExpressionAttributeNames"] = names
    return params


@LockErrorHandler.common_error_handler("write the lock of {record[environment]} in DynamoDB table {name}")
@aws_retry(extra_codes=THROTTLED)
def put_lock(client, name, record, condition):
    """Writes the record; returns the one it replaced (an expired lock, or None). A refusal
    carries the lock that holds (LockHeld.record): a take is one call either way."""
    params = {"TableName": name, "Item": to_item(record), "ReturnValues": "ALL_OLD", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    return from_item(_conditional(client.put_item, **_with_condition(params, condition)).get("Attributes"))


@LockErrorHandler.common_error_handler("delete the lock of {suffix} in DynamoDB table {name}")
@aws_retry(extra_codes=THROTTLED)
def delete_lock(client, name, suffix, condition=None):
    """Deletes the record; returns the record deleted (None when there was none)."""
    params = {"TableName": name, "Key": {KEY: {"S": suffix}}, "ReturnValues": "ALL_OLD"}
    if condition:
        params = _with_condition(params, condition)
    return from_item(_conditional(client.delete_item, **params).get("Attributes"))


@LockErrorHandler.common_error_handler("renew the lock of {suffix} in DynamoDB table {name}")
@aws_retry(extra_codes=THROTTLED)
def extend_lock(client, name, suffix, token, expires_at):
    """Moves this run's expiry; returns the record as it was before."""
    expression, values = owner_condition(token)
    values = dict(values, **{":expires": {"N": str(int(expires_at))}})
    params = {
        "TableName": name,
        "Key": {KEY: {"S": suffix}},
        "UpdateExpression": "SET expires_at = :expires",
        "ConditionExpression": expression,
        "ExpressionAttributeValues": values,
        "ExpressionAttributeNames": expression_names(expression),
        "ReturnValues": "ALL_OLD",
    }
    return from_item(_conditional(client.update_item, **params).get("Attributes"))
