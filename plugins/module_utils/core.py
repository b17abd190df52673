# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module base class of bluegreen.migration and helpers every module shares."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.ansible_release import __version__ as ansible_version
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.amazon.aws.plugins.module_utils.botocore import HAS_BOTO3
from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.bluegreen.migration.plugins.module_utils.plan import diff_of
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import line

COLLECTION_NAME = "bluegreen.migration"
COLLECTION_VERSION = "0.1.0"

if HAS_BOTO3:
    import boto3
    import botocore.config
    import botocore.exceptions

# Throttling, RequestLimitExceeded and 5xx are retried by AWSRetry itself; these are the
# JSON APIs' throttling code, Secrets Manager's 5xx code and the codes AWS returns while a
# just-changed resource settles.
TRANSIENT_CODES = ["ThrottlingException", "InternalServiceError", "ServerException", "ServiceUnavailable", "InternalFailure", "ResourceInUse"]


# What retry_on_messages() makes of an error whose message says it lifts by itself.
LIFTS_BY_ITSELF = "(a refusal that lifts by itself)"


def aws_retry(retries=10, delay=1, max_delay=30, extra_codes=(), extra_messages=None):
    """Jittered exponential backoff for one API call (throttling, 5xx and transient codes,
    plus the call's own `extra_codes`: refusals AWS lifts by itself after a while).
    `extra_messages` {code: phrases}: a code that also means a real error, retried only when its
    message holds one of the phrases."""
    codes = TRANSIENT_CODES + list(extra_codes)
    if not extra_messages:
        return AWSRetry.jittered_backoff(retries=retries, delay=delay, max_delay=max_delay, catch_extra_error_codes=codes)
    retry = retry_on_messages(extra_messages)
    return retry.jittered_backoff(retries=retries, delay=delay, max_delay=max_delay, catch_extra_error_codes=codes + [LIFTS_BY_ITSELF])


def retry_on_messages(messages):
    """AWSRetry that reads an error named in `messages` ({code: phrases}) as LIFTS_BY_ITSELF
    when its message holds one of that code's phrases."""

    class RetryOnMessages(AWSRetry):
        @staticmethod
        def status_code_from_exception(error):
            code = AWSRetry.status_code_from_exception(error)
            text = error.response.get("Error", {}).get("Message") or ""
            return LIFTS_BY_ITSELF if any(phrase in text for phrase in messages.get(code, ())) else code

    return RetryOnMessages


def tag_updater(tag_resource, untag_resource):
    """update_tags(client, arn, to_set, to_unset) of a service, from its tag and untag calls:
    removed keys first, then the keys to set (new values included)."""

    def update_tags(client, arn, to_set, to_unset):
        if to_unset:
            untag_resource(client, arn, to_unset)
        if to_set:
            tag_resource(client, arn, to_set)

    return update_tags


def validated(value, spec, what):
    """`value` checked and converted against an argument spec (defaults applied), as a module
    option with those suboptions would be; raises ValueError naming `what` and the problems."""
    result = ArgumentSpecValidator(spec).validate(dict(value or {}))
    if result.error_messages:
        raise ValueError("%s: %s" % (what, "; ".join(result.error_messages)))
    return result.validated_parameters


class BlueGreenModule(AnsibleAWSModule):
    """AnsibleAWSModule that announces bluegreen.migration in the AWS user agent."""

    def __init__(self, **kwargs):
        set_collection_info(collection_name=COLLECTION_NAME, collection_version=COLLECTION_VERSION)
        self.sessions = {}
        super(BlueGreenModule, self).__init__(**kwargs)

    def client(self, service, retry_decorator=None, **extra_params):
        """AnsibleAWSModule.client (same connection options, user agent and errors), every
        client of a run made from one boto3 session per profile: a new session loads botocore's
        endpoint and partition data and lists its service models again, ~0.1 s of CPU per client,
        and a plan module makes up to seven."""
        region, endpoint_url, connect = get_aws_connection_info(self)
        connect.update(extra_params)
        profile = connect.pop("profile_name", None)
        config = botocore.config.Config(user_agent="APN/1.0 Ansible/%s %s/%s" % (ansible_version, COLLECTION_NAME, COLLECTION_VERSION))
        for option in ("config", "aws_config"):
            extra = connect.pop(option, None)
            if extra:
                config = config.merge(extra if isinstance(extra, botocore.config.Config) else botocore.config.Config(**extra))
        try:
            if profile not in self.sessions:
                self.sessions[profile] = boto3.session.Session(profile_name=profile)
            conn = self.sessions[profile].client(service, config=config, region_name=region, endpoint_url=endpoint_url, **connect)
        except botocore.exceptions.NoRegionError:
            self.fail_json(msg="The %s module requires a region and none was found in configuration, environment variables or module parameters" % self._name)
        except (ValueError, botocore.exceptions.BotoCoreError) as e:
            self.fail_json_aws(e, msg="Couldn't connect to AWS")
        return conn if retry_decorator is None else RetryingBotoClientWrapper(conn, retry_decorator)

    def exit_with_diff(self, changed, before, after, **result):
        """exit_json with `diff` filled when --diff is on."""
        if self._diff:
            result["diff"] = {"before": before or {}, "after": after or {}}
        self.exit_json(changed=changed, **result)

    def exit_with_plan(self, changes, **result):
        """exit_json of a read-and-plan module: `changes` and one line per change. In check mode
        a plan with changes is what the run would change, so it reports changed and --check
        --diff shows it; a real run leaves that to the writers."""
        self.exit_with_diff(self.check_mode and bool(changes), *diff_of(changes), changes=changes, lines=[line(c) for c in changes], **result)
