"""Shared fixtures: one AWS emulator per test session (a real moto server on a free
loopback port), reset between tests that ask for a clean account."""

import contextlib
import os
import resource

import pytest

from tests.harness.aws import SHELL_CREDENTIALS, Emulator, client_env, isolated_environ

# The throwaway PostgreSQL server (fixtures postgres and pg_database).
pytest_plugins = ["tests.harness.postgres"]


def pytest_configure():
    """The suite never uses the shell's AWS account: no profile, key, endpoint or ~/.aws file
    of the caller reaches a test, with or without the emulator (xdist's workers inherit this)."""
    isolated = isolated_environ({key: value for key, value in os.environ.items() if key not in SHELL_CREDENTIALS})
    for key in set(os.environ) - set(isolated):
        del os.environ[key]
    os.environ.update(isolated)


def pytest_collection_modifyitems(items):
    """Longest files first, the others in collection order (stable, the same on every worker).
    With `--dist loadfile --no-loadscope-reorder` the workers take files in this order, so
    the long playbook flows start at once instead of being left for the end of the run."""

    def seconds(item):
        marker = item.get_closest_marker("slow")
        return marker.kwargs.get("seconds", 0) if marker else 0

    longest = {}
    for item in items:
        longest[item.path] = max(longest.get(item.path, 0), seconds(item))
    items.sort(key=lambda item: -longest[item.path])


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    emu = Emulator.on_free_port(tmp_path_factory.mktemp("emulator"))
    saved = {k: os.environ.get(k) for k in client_env(emu.port)}
    os.environ.update(client_env(emu.port))
    yield emu
    emu.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def aws(emulator):
    """A clean emulated AWS account (no resources, empty request recording)."""
    emulator.reset()
    return emulator


@pytest.fixture(scope="session")
def realistic_emulator(tmp_path_factory):
    """A second emulator in realistic mode (scripts/realistic.py in front of moto, every
    behaviour on): what real AWS does and moto leaves out."""
    emu = Emulator.on_free_port(tmp_path_factory.mktemp("realistic"), realistic="all")
    yield emu
    emu.stop()


@pytest.fixture
def realistic_aws(realistic_emulator, monkeypatch):
    """A clean account on the realistic emulator, which the test's AWS clients, modules and
    playbooks reach (the environment points at it for this test only)."""
    realistic_emulator.reset()
    for key, value in client_env(realistic_emulator.port).items():
        monkeypatch.setenv(key, value)
    return realistic_emulator


@contextlib.contextmanager
def _child_cpu(item):
    """CPU seconds spent by the test's own subprocesses (ansible-playbook and its modules) in
    one phase, added to the test's report: the suite is CPU-bound on 2 cores, so this, not the
    wall time of one test among three workers, says what a test costs. A module-scoped fixture
    counts for the test that first needs it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        yield
    finally:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        item.user_properties.append(("child_cpu_seconds", round(spent, 1)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    with _child_cpu(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    with _child_cpu(item):
        return (yield)


def pytest_terminal_summary(terminalreporter):
    spent = []
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        if report.when == "call":
            seconds = sum(value for key, value in report.user_properties if key == "child_cpu_seconds")
            spent.append((seconds, report.nodeid))
    total = sum(seconds for seconds, nodeid in spent)
    if total < 1:
        return
    spent.sort(reverse=True)
    terminalreporter.write_sep("=", f"subprocess CPU: {total:.0f} s in all, the most")
    for seconds, nodeid in spent[:15]:
        terminalreporter.write_line(f"{seconds:8.1f}s  {nodeid}")
