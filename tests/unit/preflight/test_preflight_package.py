"""The preflight package stays in files one can read whole: none over 300 lines, and the
names callers read as preflight.<name> all resolve."""

import pathlib

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import preflight

MAX_LINES = 300
PACKAGE = pathlib.Path(preflight.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def test_package_has_its_modules():
    # Guards the size test below against an empty glob (the package moved or was renamed).
    assert PACKAGE.name == "preflight" and len(MODULES) > 1, MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_module_over_max_lines(path):
    count = len(path.read_text(encoding="utf-8").splitlines())
    assert count <= MAX_LINES, "%s has %d lines (at most %d): split it by concern" % (path.name, count, MAX_LINES)


def test_public_names_resolve():
    missing = [name for name in preflight.__all__ if not hasattr(preflight, name)]
    assert missing == []
