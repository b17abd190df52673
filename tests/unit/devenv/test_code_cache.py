"""The module-payload byte-code cache of the dev venv (scripts/site/bluegreen_code_cache.py):
a payload's file is compiled once, the cached code runs under this run's file name, a changed
file is compiled again, and archives that are not module payloads are left to zipimport."""

import importlib
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.harness.aws import ROOT

SITE = ROOT / "scripts" / "site"
IMPORT_AND_REPORT = """
import sys, zipimport
sys.path.insert(0, sys.argv[1])
import cache_probe
print(cache_probe.VALUE, cache_probe.where.__code__.co_filename, zipimport._compile_source.__module__)
"""


def payload(tmp_path, name, value):
    """A zip shaped like an AnsiballZ payload holding one module, cache_probe."""
    archive = tmp_path / name / f"ansible_{name}_payload.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("cache_probe.py", f"VALUE = {value!r}\n\ndef where():\n    return VALUE\n")
    return archive


def run_import(archive, cache_dir):
    """Imports cache_probe from the archive in a fresh venv interpreter with the cache loaded."""
    env = {"PATH": "/usr/bin:/bin", "BLUEGREEN_CODE_CACHE": str(cache_dir), "PYTHONPATH": str(SITE)}
    command = [sys.executable, "-c", "import bluegreen_code_cache\n" + IMPORT_AND_REPORT, str(archive)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout.split()
    return out[0], out[1], out[2]


def test_payload_file_is_compiled_once_and_runs_under_this_runs_name(tmp_path):
    cache_dir = tmp_path / "cache"
    first = payload(tmp_path, "one", "blue")
    assert run_import(first, cache_dir) == ("blue", f"{first}/cache_probe.py", "bluegreen_code_cache")
    entries = sorted(cache_dir.iterdir())
    assert len(entries) == 1

    # Same bytes in another run's payload: served from the cache, named after the new archive.
    second = payload(tmp_path, "two", "blue")
    stamp = entries[0].stat().st_mtime_ns
    assert run_import(second, cache_dir) == ("blue", f"{second}/cache_probe.py", "bluegreen_code_cache")
    assert sorted(cache_dir.iterdir()) == entries
    assert entries[0].stat().st_mtime_ns == stamp

    # Changed source: compiled again, the new code runs.
    changed = payload(tmp_path, "three", "green")
    assert run_import(changed, cache_dir)[0] == "green"
    assert len(list(cache_dir.iterdir())) == 2


def test_other_archives_and_a_damaged_entry(tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.syspath_prepend(str(SITE))
    cache = importlib.import_module("bluegreen_code_cache")
    monkeypatch.setattr(cache, "CACHE_DIR", str(cache_dir))
    code = cache.cached_compile(f"{tmp_path}/library.zip/mod.py", b"VALUE = 1\n")
    assert code.co_filename == f"{tmp_path}/library.zip/mod.py"
    assert not cache_dir.exists()

    name = f"{tmp_path}/ansible_probe_payload.zip/mod.py"
    cache.cached_compile(name, b"VALUE = 2\n")
    (entry,) = cache_dir.iterdir()
    entry.write_bytes(b"not byte code")
    namespace = {}
    exec(cache.cached_compile(name, b"VALUE = 2\n"), namespace)  # noqa: S102 - our own source
    assert namespace["VALUE"] == 2
    assert entry.read_bytes() != b"not byte code"


def test_setup_loads_the_cache_in_the_venv():
    pth = list(Path(sys.prefix).glob("lib/python*/site-packages/bluegreen-code-cache.pth"))
    assert pth, "scripts/setup.sh did not install bluegreen-code-cache.pth in the venv"
    assert pth[0].read_text().splitlines()[0] == str(SITE)
    started = subprocess.run([sys.executable, "-c", "import zipimport; print(zipimport._compile_source.__module__)"],
                             capture_output=True, text=True, check=True)
    assert started.stdout.strip() == "bluegreen_code_cache" and started.stderr == ""
