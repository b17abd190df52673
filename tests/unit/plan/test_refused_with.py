"""refused_with (module_utils/plan.py, filter/plan.py): the `until` of the tasks AWS refuses
while it finishes something else retries only that refusal, named by its error code."""

import pytest

from ansible_collections.bluegreen.migration.plugins.filter.plan import FilterModule

REFUSED_WITH = FilterModule().filters()["refused_with"]


@pytest.mark.parametrize(
    "result, code, refused",
    [
        # amazon.aws's fail_json_aws: the error's code, and the message naming it
        ({"failed": True, "msg": "Failed to detach internet gateway: ... (DependencyViolation) ...", "error": {"code": "DependencyViolation"}},
         "DependencyViolation", True),
        # a module that gave only the message
        ({"failed": True, "msg": "An error occurred (DependencyViolation) when calling the DeleteVpc operation"}, "DependencyViolation", True),
        # another refusal names its own code, even if its message mentions dependents
        ({"failed": True, "msg": "has a DependencyViolation-like name", "error": {"code": "InvalidGroup.InUse"}}, "DependencyViolation", False),
        ({"failed": True, "msg": "UnauthorizedOperation", "error": {"code": "UnauthorizedOperation"}}, "DependencyViolation", False),
        # the Aurora cluster's transitional state, and the instance's code that is not it
        ({"failed": True, "msg": "Unable to delete DB cluster", "error": {"code": "InvalidDBClusterStateFault"}}, "InvalidDBClusterStateFault", True),
        ({"failed": True, "msg": "Unable to delete DB instance", "error": {"code": "InvalidDBInstanceState"}}, "InvalidDBClusterStateFault", False),
        # a call that went through, or did not run
        ({"changed": True, "msg": "DependencyViolation retried before"}, "DependencyViolation", False),
        ({"skipped": True}, "DependencyViolation", False),
        (None, "DependencyViolation", False),
        ("not a result", "DependencyViolation", False),
    ],
)
def test_only_the_named_refusal_is_retried(result, code, refused):
    assert REFUSED_WITH(result, code) is refused
