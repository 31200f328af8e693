"""A PostgreSQL server for the test session: `$MONITOR_TEST_DATABASE_URL` if set, else one started here.

Started with the machine's own `initdb`/`pg_ctl` (PATH, `pg_config --bindir`, /usr/lib/postgresql/*/bin), or
the `pgserver` wheel's binaries when the machine has none, in a temporary directory, bound to 127.0.0.1 on a
free port, fsync off (a test server has nothing to keep). PostgreSQL refuses to run as root, so under root
(CI) the server runs as the `postgres` user if it exists, else `nobody`. Each test gets its own schema.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from urllib.parse import quote

_url: str | None = None
_server: PgServer | None = None


def _bindir() -> str | None:
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(found)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
        if out and os.path.exists(os.path.join(out, "pg_ctl")):
            return out
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(cand, "pg_ctl")):
            return cand
    try:  # the pgserver wheel ships the server binaries
        import pgserver  # type: ignore[import-not-found]
        cand = os.path.join(os.path.dirname(pgserver.__file__), "pginstall", "bin")
        return cand if os.path.exists(os.path.join(cand, "pg_ctl")) else None
    except ImportError:
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb/pg_ctl) on this machine and no "
                               "$MONITOR_TEST_DATABASE_URL: install postgresql or `pip install pgserver`")
        self.bindir = bindir
        self.port = _free_port()
        self.root = tempfile.mkdtemp(prefix="monitor-pg-")
        self.data = os.path.join(self.root, "data")
        self.user: str | None = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    pwd.getpwnam(name)
                    self.user = name
                    break
                except KeyError:
                    continue
            os.chmod(self.root, 0o777)
            shutil.chown(self.root, self.user)
        self._run([os.path.join(bindir, "initdb"), "-D", self.data, "-U", "monitor", "--auth=trust",
                   "-E", "UTF8", "--no-sync", "--locale=C"])
        self.start()

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=check, cwd=self.root)

    def pg_ctl(self, *args: str) -> None:
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 "
                "-c shared_buffers=64MB")
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", os.path.join(self.root, "log"),
                   "-o", opts, "-w", "-t", "60", *args])

    def start(self) -> None:
        self.pg_ctl("start")

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every connection is cut, as in a failover."""
        self.pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop"],
                  check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql://monitor@127.0.0.1:{self.port}/postgres"


def server() -> PgServer | None:
    """The server this session started (None when $MONITOR_TEST_DATABASE_URL points elsewhere)."""
    base_url()
    return _server


def base_url() -> str:
    global _url, _server
    if _url is None:
        env = os.environ.get("MONITOR_TEST_DATABASE_URL")
        if env:
            _url = env
        else:
            _server = PgServer()
            atexit.register(_server.stop)
            _url = _server.url
    return _url


def fresh_schema_url() -> str:
    """A URL whose connections see only a new, empty schema: one per test, nothing shared."""
    import psycopg
    base = base_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    for attempt in range(30):
        try:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            break
        except psycopg.OperationalError:
            if attempt == 29:
                raise
            time.sleep(0.5)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
