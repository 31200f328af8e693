"""A real Dovecot IMAP server for tests: IMAPS on 127.0.0.1, a self-signed certificate, one Maildir user.

Dovecot comes from the Debian package `dovecot-imapd` (`make test` installs it; the fixture does too when it
runs as root and the binary is missing). Everything else lives in a temporary directory: the config, the
certificate, the passwd file and the mailbox. Mail is dropped into the Maildir as files, as a local MTA would.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "jane", "s3cret-imap-pw"


def ensure_installed() -> str | None:
    """None when Dovecot is there (installing it if we may); otherwise why not."""
    if os.path.exists(DOVECOT):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "dovecot is not installed (apt-get install dovecot-imapd) and this user cannot install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "dovecot-imapd"]):
        if subprocess.run(cmd, env=env, capture_output=True, timeout=600).returncode != 0:
            return f"`{' '.join(cmd)}` failed"
    return None if os.path.exists(DOVECOT) else "dovecot-imapd installed no /usr/sbin/dovecot"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dovecot:
    def __init__(self) -> None:
        # mail processes run as `nobody` (Dovecot refuses root), so the tree must be reachable by it
        self.dir = Path(tempfile.mkdtemp(prefix="mm-dovecot-", dir="/tmp"))
        self.dir.chmod(0o755)
        self.port = _free_port()
        self.cert = self.dir / "cert.pem"
        self.maildir = self.dir / "home" / USER / "Maildir"
        self.proc: subprocess.Popen[bytes] | None = None
        self._n = 0

    def start(self) -> Dovecot:
        d = self.dir
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "key.pem"),
                        "-out", str(self.cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        for sub in ("run", "state"):
            (d / sub).mkdir()
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir(parents=True)
        (d / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (d / "dovecot.conf").write_text(f"""\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = required
ssl_cert = <{self.cert}
ssl_key = <{d}/key.pem
protocols = imap
listen = 127.0.0.1
disable_plaintext_auth = yes
first_valid_uid = 100
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home/%u
}}
mail_location = maildir:~/Maildir
""")
        self._chown()
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(d / "dovecot.conf")], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start: {(d / 'dovecot.log').read_text() if (d / 'dovecot.log').exists() else ''}")

    def _chown(self) -> None:
        for path in [self.dir / "home", *(self.dir / "home").rglob("*")]:
            os.chown(path, 65534, 65534)

    def deliver(self, subject: str, body: str, sender: str = "Jane Doe <jane@example.com>",
                message_id: str | None = None) -> str:
        """Drop one message into the Maildir, as a local MTA does (tmp/, then renamed into new/)."""
        self._n += 1
        message_id = message_id or f"<{uuid.uuid4().hex}@example.com>"
        raw = (f"From: {sender}\r\nTo: support@acme.test\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
               f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
               f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n")
        name = f"{int(time.time())}.M{self._n}P{os.getpid()}.test"
        tmp = self.maildir / "tmp" / name
        tmp.write_text(raw)
        os.chown(tmp, 65534, 65534)
        tmp.rename(self.maildir / "new" / name)
        return message_id

    def reset_uidvalidity(self) -> None:
        """Rebuild the mailbox's index (as after a restore): Dovecot gives it a new UIDVALIDITY."""
        self.stop()
        for f in self.maildir.glob("dovecot*"):
            f.unlink()
        for f in (self.maildir / "cur").iterdir():
            f.rename(self.maildir / "new" / f.name.split(":")[0])
        self.start_again()

    def start_again(self) -> None:
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.dir / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
