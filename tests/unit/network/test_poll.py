"""waits.poll: the modules' wait for an earlier request's resource to be listed."""

from ansible_collections.bluegreen.migration.plugins.module_utils import waits


def test_poll_answers_the_first_find_that_is_not_none(monkeypatch):
    answers, slept = iter([None, None, {"id": "x"}]), []
    monkeypatch.setattr(waits.time, "sleep", slept.append)
    assert waits.poll(lambda: next(answers), 60, 5) == {"id": "x"}
    assert slept == [5, 5]


def test_poll_answers_none_once_the_timeout_has_passed(monkeypatch):
    calls = []
    monkeypatch.setattr(waits.time, "sleep", lambda _seconds: None)
    assert waits.poll(lambda: calls.append(1), 0, 5) is None
    assert calls == [1]  # looked once, even with no time to wait
