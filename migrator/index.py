"""Lambda entry point of the bluegreen.migration schema migrator: `index.handler`.

Events:
  {"action": "status"}
  {"action": "plan", "phase": "expand" | "contract"}
  {"action": "apply", "phase": "expand" | "contract"}
  {"action": "validate", "expect": {"version": 3, "tables": [...], "columns": {"t": ["c"]}, ...}}

Every answer is a JSON-able dict with `ok` (and `error` when not ok). Credentials come from
the Secrets Manager secret named by DB_SECRET_ARN (or, for local runs and tests, from the JSON
in MIGRATOR_DSN_JSON); the password never appears in an answer or a log line.
"""

import json
import logging
import os
import socket
import ssl

import pg8000.native
from pg8000.exceptions import Error as PgError
from pg8000.exceptions import InterfaceError

import migrator_engine

HERE = os.path.dirname(os.path.abspath(__file__))
ACTIONS = ("status", "plan", "apply", "validate")
LOG = logging.getLogger("bluegreen.migrator")
LOG.setLevel(os.environ.get("MIGRATOR_LOG_LEVEL", "INFO"))


class ConfigError(Exception):
    """The function is not configured well enough to reach the database."""


def _log(event, **fields):
    LOG.info(json.dumps(dict(fields, event=event), default=str, sort_keys=True))


def _int_env(name, default):
    value = os.environ.get(name)
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None


def _read_secret(arn):
    import boto3  # provided by the Lambda runtime; imported late so local runs need it only when used
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = boto3.client("secretsmanager").get_secret_value(SecretId=arn)
    except (BotoCoreError, ClientError) as exc:
        raise ConfigError(f"cannot read the database secret {arn}: {exc}") from None
    try:
        return json.loads(response["SecretString"])
    except (KeyError, ValueError):
        raise ConfigError(f"the database secret {arn} does not hold a JSON SecretString") from None


def connection_settings():
    """Database connection settings (a dict holding the password: never return or log it)."""
    raw = os.environ.get("MIGRATOR_DSN_JSON")
    if raw:
        try:
            cfg = json.loads(raw)
        except ValueError:
            raise ConfigError("MIGRATOR_DSN_JSON is not valid JSON") from None
        default_ssl = "disable"
    elif os.environ.get("DB_SECRET_ARN"):
        cfg = _read_secret(os.environ["DB_SECRET_ARN"])
        default_ssl = "require"
    else:
        raise ConfigError("set DB_SECRET_ARN (Secrets Manager secret of the database) or MIGRATOR_DSN_JSON")
    settings = {
        "user": cfg.get("username") or cfg.get("user"),
        "password": cfg.get("password"),
        "host": cfg.get("host"),
        "port": int(cfg.get("port") or 5432),
        "database": cfg.get("dbname") or cfg.get("database") or "postgres",
        "sslmode": os.environ.get("MIGRATOR_SSLMODE") or cfg.get("sslmode") or default_ssl,
    }
    missing = [key for key in ("user", "password", "host") if not settings[key]]
    if missing:
        raise ConfigError(f"database settings lack {', '.join(missing)}")
    if settings["sslmode"] not in ("disable", "require", "verify-full"):
        raise ConfigError(f"sslmode must be disable, require or verify-full, not {settings['sslmode']!r}")
    return settings


def _ca_bundle():
    """MIGRATOR_SSL_CA, a relative path being one packaged beside this module (ca-bundle.pem)."""
    path = os.environ.get("MIGRATOR_SSL_CA")
    if not path:
        return None
    return path if os.path.isabs(path) else os.path.join(os.path.dirname(os.path.abspath(__file__)), path)


def _ssl_context(mode):
    if mode == "disable":
        return None
    context = ssl.create_default_context(cafile=_ca_bundle())
    if mode == "require":
        # Encrypted, like libpq's sslmode=require: no CA bundle is needed in the function.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


# A peer gone silent (an Aurora failover) is noticed after 30 s idle plus 3 probes 10 s apart.
KEEPALIVE = (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3))


def _socket(host, port, timeout):
    """A connected TCP socket with keepalive (a dead server is noticed), `timeout` still set: it
    bounds the TLS handshake and the login too, and is cleared once connected (see _connector)."""
    try:
        sock = socket.create_connection((host, port), timeout)
    except OSError as exc:
        raise InterfaceError(f"Can't create a connection to host {host} and port {port} (timeout is {timeout} s): {exc}") from exc
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in KEEPALIVE:
        if hasattr(socket, name):  # Linux (Lambda); other platforms keep their defaults
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    return sock


def _connector(settings):
    ssl_context = _ssl_context(settings["sslmode"])
    timeout = _int_env("MIGRATOR_CONNECT_TIMEOUT", 10)

    def connect():
        sock = _socket(settings["host"], settings["port"], timeout)
        try:
            # host is still given: pg8000 checks it against the certificate with verify-full.
            conn = pg8000.native.Connection(
                user=settings["user"], password=settings["password"], host=settings["host"], port=settings["port"],
                database=settings["database"], ssl_context=ssl_context, sock=sock,
                application_name="bluegreen-migrator",
            )
        except BaseException:
            sock.close()
            raise
        # Connected: pg8000 would keep the timeout for every read and cut off any statement running
        # longer; statement_timeout bounds statements on the server instead. pg8000 (pinned in
        # requirements.txt) has no public handle on its socket, the TLS one when encrypted.
        conn._usock.settimeout(None)  # pylint: disable=protected-access
        return conn

    return connect


def _redact(value, secrets):
    """Replace every secret string inside a JSON-able value."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "********")
        return value
    if isinstance(value, dict):
        return {k: _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    return value


def build_engine(settings, context=None):
    manifest_path = os.environ.get("MIGRATOR_MANIFEST") or os.path.join(HERE, "manifest.json")
    migrations_dir = os.environ.get("MIGRATOR_MIGRATIONS_DIR") or os.path.join(HERE, "migrations")
    manifest = migrator_engine.load_manifest(manifest_path)
    migrations = migrator_engine.load_migrations(migrations_dir, manifest)
    time_left = getattr(context, "get_remaining_time_in_millis", None)
    return migrator_engine.Engine(
        _connector(settings),
        migrations,
        history_table=os.environ.get("MIGRATOR_HISTORY_TABLE") or migrator_engine.DEFAULT_HISTORY_TABLE,
        lock_timeout_ms=_int_env("MIGRATOR_LOCK_TIMEOUT_MS", 3000),
        lock_retries=_int_env("MIGRATOR_LOCK_RETRIES", 5),
        retry_delay=_int_env("MIGRATOR_RETRY_DELAY_MS", 1000) / 1000.0,
        time_left_ms=time_left,
        min_time_left_ms=_int_env("MIGRATOR_MIN_TIME_LEFT_MS", 20000),
        statement_timeout_ms=_int_env("MIGRATOR_STATEMENT_TIMEOUT_MS", 0),
        log=_log,
    )


def _dispatch(event, context):
    if not isinstance(event, dict):
        raise ConfigError("the event must be a JSON object such as {\"action\": \"status\"}")
    action = event.get("action")
    if action not in ACTIONS:
        raise ConfigError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    phase = event.get("phase")
    if action in ("plan", "apply") and phase not in migrator_engine.PHASES:
        raise ConfigError(f"action {action} needs phase 'expand' or 'contract', got {phase!r}")
    expect = event.get("expect") or {}
    if action == "validate" and not isinstance(expect, dict):
        raise ConfigError("validate needs `expect` to be an object")
    settings = connection_settings()
    secrets = [settings["password"]]
    try:
        _log("start", action=action, phase=phase, host=settings["host"], database=settings["database"], user=settings["user"])
        engine = build_engine(settings, context)
        if action == "status":
            result = engine.status()
        elif action == "plan":
            result = engine.plan(phase)
        elif action == "apply":
            result = engine.apply(phase)
        else:
            result = engine.validate(expect)
    except (migrator_engine.MigrationError, PgError, OSError) as exc:
        result = {"ok": False, "action": action, "error": f"{type(exc).__name__}: {exc}"}
    result = _redact(result, secrets)
    _log("done", action=action, ok=result.get("ok"), status=result.get("status"), error=result.get("error"))
    return result


def handler(event, context):
    """Lambda handler: run one migrator action and return its JSON-able result."""
    try:
        return _dispatch(event, context)
    except ConfigError as exc:
        _log("config_error", error=str(exc))
        return {"ok": False, "action": event.get("action") if isinstance(event, dict) else None, "error": str(exc)}
