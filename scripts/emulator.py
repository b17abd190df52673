"""Start, stop and inspect the local AWS emulator (a moto server on loopback).

Used by `make demo` (fixed port, state under .run/) and by the test harness (one
emulator per test session on a free port). Every AWS call of the collection reaches
it through the standard AWS_ENDPOINT_URL variable with dummy credentials; the caller's
own AWS profile and ~/.aws files are left out (client_environ).

    python scripts/emulator.py start|stop|status|env|calls [--port N] [--state-dir D] [--realistic[=a,b]]

With --realistic, moto listens on a port of its own and scripts/realistic.py stands on the
public port in front of it, adding what real AWS does and moto leaves out (all behaviours,
or the comma list given); clients see no difference but AWS's.
"""

import argparse
import base64
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = int(os.environ.get("BLUEGREEN_EMULATOR_PORT", "5005"))
DEFAULT_STATE_DIR = ROOT / ".run"
REGION = "us-east-1"
# Calls that only read; everything else counts as mutating.
READ_PREFIXES = ("Describe", "List", "Get", "Lookup", "Head", "Search", "Batch Get")


def _ephemeral_range():
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A loopback port nothing listens on, below the kernel's ephemeral range: the many
    outbound connections of a test run take their local ports from that range, and one of
    them holding the port makes the server's bind fail."""
    high = min(_ephemeral_range()[0], 32768)
    low = max(1024, high - 12000)
    for _attempt in range(50):
        port = low + secrets.randbelow(high - low)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The emulator's own calls to itself: never through a shell's HTTP(S)_PROXY.
LOOPBACK_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PortTaken(RuntimeError):
    """The server could not keep its port: another process bound it first."""


def client_env(port):
    """Environment that points boto3 (and so every amazon.aws module) at the emulator. The
    caller's ~/.aws files are not read: a profile's settings there (endpoint_url of a service,
    ignore_configured_endpoint_urls, retry settings) would send calls elsewhere or change them.
    Apply it with client_environ(), which also drops the caller's own AWS settings."""
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


# A shell's AWS settings that break a run on the emulator or take it elsewhere: a profile
# (amazon.aws refuses one beside access keys: "Passing both a profile and access tokens is not
# supported"; boto3 refuses one its config file lacks), an order to ignore AWS_ENDPOINT_URL,
# other endpoints (AWS_ENDPOINT_URL_<SERVICE> wins over AWS_ENDPOINT_URL, and amazon.aws takes
# AWS_URL as its endpoint_url), temporary credentials' companions (botocore prefers
# AWS_SECURITY_TOKEN to AWS_SESSION_TOKEN and refuses keys past AWS_CREDENTIAL_EXPIRATION),
# older key names (an ansible-core lookup takes the last one set), retry and timeout settings
# (tests count the calls).
FOREIGN_AWS_SETTINGS = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_URL",
    "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_ACCESS_KEY", "AWS_SECRET_KEY",
    "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "AWS_DEFAULTS_MODE",
)
# The shell's own keys: the emulator's replace them; a test session starts without any.
SHELL_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def loopback_no_proxy(environ):
    """NO_PROXY (and no_proxy) for a client of the emulator: the shell's list with the loopback
    names first, so a shell's HTTP(S)_PROXY does not carry the calls to the emulator."""
    loopback = ["127.0.0.1", "localhost"]
    entries = [e.strip() for e in (environ.get("NO_PROXY") or environ.get("no_proxy") or "").split(",") if e.strip()]
    return ",".join(loopback + [e for e in entries if e not in loopback])


def foreign_aws_settings(environ):
    """The names of `environ` that client_environ() drops, sorted."""
    return sorted(key for key in environ if key in FOREIGN_AWS_SETTINGS or key.startswith("AWS_ENDPOINT_URL_"))


def isolated_environ(environ):
    """A copy of `environ` without the shell's AWS settings (foreign_aws_settings), reading no
    ~/.aws file, its proxy kept away from loopback: what every emulator process and client
    starts from."""
    env = {key: value for key, value in environ.items() if key not in foreign_aws_settings(environ)}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    env["NO_PROXY"] = env["no_proxy"] = loopback_no_proxy(environ)
    return env


def server_environ():
    """The environment of the emulator's own processes: moto's botocore must not read the
    caller's profile or ~/.aws either (a profile its config file lacks fails every request)."""
    return isolated_environ(os.environ)


def client_environ(port, environ=None):
    """A copy of `environ` (os.environ by default) that reaches the emulator on `port` only."""
    return {**isolated_environ(os.environ if environ is None else environ), **client_env(port)}


class Emulator:
    """A moto server process with its pid file, log file and request recording."""

    def __init__(self, port=None, state_dir=None, realistic=None):
        self.port = port or DEFAULT_PORT
        self.state_dir = Path(state_dir or DEFAULT_STATE_DIR)
        # None: plain moto on the port; "all", "none" or a comma list: the realistic proxy.
        self.realistic = realistic
        self.pid_file = self.state_dir / f"moto-{self.port}.pid"
        self.proxy_pid_file = self.state_dir / f"realistic-{self.port}.pid"
        self.log_file = self.state_dir / f"moto-{self.port}.log"
        self.recording = self.state_dir / f"moto-{self.port}.recording.jsonl"

    @classmethod
    def on_free_port(cls, state_dir, realistic=None, attempts=5, timeout=60):
        """Start an emulator on a port of its own and return it. Picking a free port and
        binding it are two steps, so a parallel test worker can take the port in between:
        then the next attempt is another emulator on another port."""
        for attempt in range(1, attempts + 1):
            emu = cls(port=free_port(), state_dir=state_dir, realistic=realistic)
            try:
                return emu.start(timeout=timeout)
            except PortTaken:
                emu.stop()
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def pid(self):
        return _live_pid(self.pid_file)

    def _server_binary(self):
        candidate = Path(sys.executable).parent / "moto_server"
        return str(candidate) if candidate.exists() else "moto_server"

    def start(self, timeout=60):
        if self.pid():
            # Ours is already running (a second `make demo`): wait for it, never start a twin.
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.ready():
                    return self
                time.sleep(0.5)
            raise RuntimeError(f"moto server (pid {self.pid()}) does not answer on {self.url}; see {self.log_file}")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        env = server_environ()
        env.update(
            {
                # AWS managed policies (AmazonECSTaskExecutionRolePolicy ...) must exist.
                "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
                # ECS services report this many running tasks.
                "MOTO_ECS_SERVICE_RUNNING": env.get("MOTO_ECS_SERVICE_RUNNING", "2"),
                # Record every request so tests and benchmarks can see what was sent.
                "MOTO_ENABLE_RECORDING": "True",
                "MOTO_RECORDER_FILEPATH": str(self.recording),
            }
        )
        for key in ("AWS_ENDPOINT_URL", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env.pop(key, None)
        self.recording.write_text("")
        # Only this start's lines count when the log is read for its cause of failure.
        self._log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
        moto_port = free_port() if self.realistic is not None else self.port
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                [self._server_binary(), "-H", "127.0.0.1", "-p", str(moto_port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                cwd=self.state_dir,
            )
        self.pid_file.write_text(str(proc.pid))
        procs = [proc]
        if self.realistic is not None:
            procs.append(self._start_proxy(moto_port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._fail_if_exited(procs)
            # Another server may already answer on this port: only ours counts, so the
            # processes must still be alive a moment after the port answers. The probe is
            # short so that a port held by something silent cannot stall that check.
            if self.ready(timeout=1):
                time.sleep(0.3)
                self._fail_if_exited(procs, answered=True)
                self.configure()
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"moto server did not answer on {self.url} within {timeout}s; see {self.log_file}")

    def _fail_if_exited(self, procs, answered=False):
        exited = [p for p in procs if p.poll() is not None]
        if not exited:
            return
        self.stop()
        with open(self.log_file, "rb") as handle:
            handle.seek(self._log_start)
            log = handle.read().decode(errors="replace")
        if answered or "Address already in use" in log:
            raise PortTaken(f"port {self.port} (or the emulator's upstream port) is taken by another server; see {self.log_file}")
        raise RuntimeError(f"{exited[0].args[0]} exited with {exited[0].returncode}; see {self.log_file}")

    def _start_proxy(self, moto_port):
        with open(self.log_file, "ab") as log:
            proxy = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "scripts" / "realistic.py"),
                    "--listen",
                    str(self.port),
                    "--upstream",
                    str(moto_port),
                    "--behaviours",
                    self.realistic,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=server_environ(),
                start_new_session=True,
                cwd=self.state_dir,
            )
        self.proxy_pid_file.write_text(str(proxy.pid))
        return proxy

    def realism(self, path, payload=None):
        """The realistic proxy's API: config (read, or update with payload), events, reset."""
        if payload is None and path != "reset":
            with LOOPBACK_OPENER.open(f"{self.url}/realistic-api/{path}", timeout=30) as resp:
                return json.loads(resp.read())
        return json.loads(self._post(f"/realistic-api/{path}", payload))

    def ready(self, timeout=5):
        """True once the server answers HTTP at all. A cheap path on purpose: moto's
        data.json dumps every resource and takes seconds once an environment is deployed."""
        try:
            with LOOPBACK_OPENER.open(f"{self.url}/moto-api/bluegreen-ping", timeout=timeout):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def _post(self, path, payload=None):
        data = json.dumps(payload or {}).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method="POST")
        req.add_header("Content-Type", "application/json")
        with LOOPBACK_OPENER.open(req, timeout=30) as resp:
            return resp.read()

    def configure(self):
        # Lambda invocations run in-process (no Docker on these machines).
        self._post("/moto-api/config", {"lambda": {"use_docker": False}})

    def reset(self):
        """Forget every resource (keeps the process) and the recording."""
        self._post("/moto-api/reset")
        if self.realistic is not None:
            self._post("/realistic-api/reset")
        self.reset_recording()
        self.configure()

    def reset_recording(self):
        self._post("/moto-api/recorder/reset-recording")

    def queue_lambda_answers(self, answer, count=1):
        """The next `count` Lambda invocations return `answer` (JSON): moto's simple Lambda
        backend answers from a queue instead of running the code."""
        for _dummy in range(count):
            self._post("/moto-api/static/lambda-simple/response", {"results": [json.dumps(answer)], "region": "us-east-1"})

    def lambda_invocations(self):
        """The payloads of the recorded Lambda invocations, oldest first."""
        return [c["params"] for c in self.requests() if c["service"] == "lambda" and c["path"].endswith("/invocations")]

    def stop(self):
        for pid_file in (self.proxy_pid_file, self.pid_file):
            _terminate(_live_pid(pid_file))
            pid_file.unlink(missing_ok=True)

    def requests(self):
        """The recorded requests, parsed: dicts with service, action, params, method, path."""
        if not self.recording.exists():
            return []
        calls = []
        for line in self.recording.read_text().splitlines():
            if line.strip():
                call = parse_recorded(json.loads(line))
                if not call["path"].startswith("/moto-api/"):
                    calls.append(call)
        return calls

    def mutating_requests(self):
        return [c for c in self.requests() if c["method"] not in ("GET", "HEAD") and not (c["action"] or "").startswith(READ_PREFIXES)]


def _live_pid(pid_file):
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _terminate(pid):
    if not pid:
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        os.kill(pid, signal.SIGTERM)
    for _dummy in range(50):
        if not _alive(pid):
            break
        time.sleep(0.1)


def _alive(pid):
    """False once pid has exited; reaps it when it is our child (a zombie would still
    answer kill(pid, 0))."""
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _service_from_auth(headers):
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    # Credential=AKID/20260101/us-east-1/ec2/aws4_request
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            return scope[3]
    return None


def parse_recorded(entry):
    """Turn one moto recorder entry into service, action and parameters."""
    headers = entry.get("headers") or {}
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    url = urllib.parse.urlparse(entry.get("url", ""))
    service = _service_from_auth(headers)
    target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
    params = {}
    action = None
    if target:
        action = target.rsplit(".", 1)[-1]
        try:
            params = json.loads(body) if body else {}
        except ValueError:
            params = {}
    else:
        query = dict(urllib.parse.parse_qsl(url.query))
        form = {}
        content_type = headers.get("Content-Type") or headers.get("content-type") or ""
        if "x-www-form-urlencoded" in content_type:
            form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        params = {**query, **form}
        action = params.pop("Action", None)
        if action is None:
            # REST protocols (Lambda, ...): name the call by method and path.
            action = f"{entry.get('method')} {url.path}"
            if body:
                try:
                    params = json.loads(body)
                except ValueError:
                    params = {"_raw": body}
    return {
        "service": service,
        "action": action,
        "params": params,
        "method": entry.get("method"),
        "path": url.path,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "status", "env", "reset", "calls"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 with start: a free port, printed in the start line")
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR))
    parser.add_argument(
        "--realistic",
        nargs="?",
        const="all",
        default=os.environ.get("BLUEGREEN_REALISTIC") or None,
        help="put the realistic proxy in front of moto: all behaviours, or a comma list (scripts/realistic.py)",
    )
    args = parser.parse_args(argv)
    if args.command == "start" and args.port == 0:
        emu = Emulator.on_free_port(args.state_dir, args.realistic)
    else:
        emu = Emulator(args.port, args.state_dir, args.realistic)
        if args.command == "start":
            emu.start()
    if args.command == "start":
        mode = f", realistic: {args.realistic}" if args.realistic is not None else ""
        print(f"emulator: moto server on {emu.url} (pid {emu.pid()}, log {emu.log_file}{mode})")
    elif args.command == "stop":
        emu.stop()
        print("emulator: stopped")
    elif args.command == "status":
        up = emu.pid() and emu.ready()
        print(f"emulator: {'running on ' + emu.url if up else 'not running'}")
        return 0 if up else 1
    elif args.command == "env":
        # Evaluated by the shell that ran it: what turns its environment into client_environ's.
        wanted = client_environ(emu.port)
        gone = sorted(set(os.environ) - set(wanted))
        if gone:
            print("unset " + " ".join(gone))
        for key, value in wanted.items():
            if os.environ.get(key) != value:
                print(f"export {key}={shlex.quote(value)}")
    elif args.command == "reset":
        emu.reset()
    elif args.command == "calls":
        calls = emu.requests()
        mutating = emu.mutating_requests()
        print(json.dumps({"total": len(calls), "mutating": len(mutating)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
