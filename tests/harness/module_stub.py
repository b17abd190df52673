"""A stand-in for the module object a custom module's ensure() takes, for tests that answer its
AWS calls with botocore's Stubber: its parameters, and the ways it ends, recorded."""


class Ended(Exception):
    """ensure() ended (exit_with_diff or fail_json)."""


class StubModule:
    def __init__(self, params):
        self.params = dict(params)
        self.check_mode, self.warnings, self.result = False, [], None

    def exit_with_diff(self, changed, before, after, **result):
        self.result = dict(result, changed=changed)
        raise Ended()

    def fail_json(self, **result):
        self.result = dict(result, failed=True)
        raise Ended()

    def warn(self, text):
        self.warnings.append(text)
