"""A byte-code cache for Ansible module payloads, loaded by the dev venv at start-up.

Every module run imports ansible's and the collections' module_utils from the AnsiballZ zip,
and Python's zipimport compiles each of those files from source on every import (twice when
a spec is built first): about a quarter of a module run's CPU. This keeps the compiled code,
keyed by the source bytes, the interpreter's byte-code magic and its -O level, in the venv, so a
file that did not change is compiled once. Only payload archives are touched; the code that
runs is the code in the zip (same bytes, same compiler). Loaded by every Python the venv starts,
so what only a payload needs (hashlib, tempfile) is imported when a payload is compiled.
"""

import importlib.util
import marshal
import os
import sys
import types
import zipimport

CACHE_DIR = os.environ.get('BLUEGREEN_CODE_CACHE') or os.path.join(sys.prefix, 'var', 'ansiballz-code')
PAYLOAD_MARK = '_payload.zip'
# zipimport's own compile step (kept when this module is loaded twice).
compile_source = getattr(zipimport._compile_source, '__wrapped__', zipimport._compile_source)  # pylint: disable=protected-access


def with_filename(code, pathname):
    """The code object and the ones it holds, named after this run's payload (for tracebacks)."""
    consts = tuple(with_filename(c, pathname) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=pathname, co_consts=consts)


def cached_compile(pathname, source):
    """zipimport's compile step, answered from the cache for module payloads."""
    if PAYLOAD_MARK not in pathname:
        return compile_source(pathname, source)
    import hashlib  # pylint: disable=import-outside-toplevel
    import tempfile  # pylint: disable=import-outside-toplevel
    # As a .pyc's name does: the byte-code version and the optimization level (-O strips asserts).
    key = hashlib.sha256(importlib.util.MAGIC_NUMBER + bytes([sys.flags.optimize]) + source).hexdigest()
    path = os.path.join(CACHE_DIR, key)
    try:
        with open(path, 'rb') as cached:
            code = marshal.loads(cached.read())  # noqa: S302 - written by this module, in the venv
        if isinstance(code, types.CodeType):
            return with_filename(code, pathname)
    except (OSError, EOFError, ValueError, TypeError):
        pass
    code = compile_source(pathname, source)
    try:
        os.makedirs(CACHE_DIR, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=CACHE_DIR, prefix='.partial-')
        with os.fdopen(handle, 'wb') as out:
            out.write(marshal.dumps(code))
        os.replace(partial, path)  # atomic: parallel runs never read half a file
    except OSError:
        pass
    return code


cached_compile.__wrapped__ = compile_source
zipimport._compile_source = cached_compile  # pylint: disable=protected-access
