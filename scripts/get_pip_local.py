"""Stand-in for the get-pip.py bootstrap that ansible-test downloads from its own web host.

That host is not reachable from every machine; this script does the same job with the pip
wheel that ships inside the interpreter's ensurepip and then lets that pip install the
requested version from the package index: `python get_pip_local.py [pip install args]`.
"""

import glob
import os
import sys

import ensurepip

wheels = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
if not wheels:
    sys.exit("ensurepip ships no pip wheel in this Python; install pip for it first")
sys.path.insert(0, wheels[-1])

from pip._internal.cli.main import main  # noqa: E402  (importable only once the wheel is on sys.path)

# get-pip.py's own switches; pip install does not know them (and installs neither anyway).
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", *args]))
