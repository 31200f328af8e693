"""Figures for the README's "Faults and bad input": memory peak under bombs, time to fail under trickles.

    .venv/bin/python -m tests.bench.hostile

Each case runs the real CLI (`monitor run --once`, or the daemon for the live stream) in a child process
against a hostile server on 127.0.0.1 and reports the child's peak RSS (`ru_maxrss` / VmHWM) and wall time,
next to a baseline run against a well-behaved server.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import write_config
from tests.fakes.bombs import gzip_bomb
from tests.fakes.hostile import _endless_line, _trickle
from tests.fakes.server import LocalServer, Reply
from tests.fakes.twitter import BEARER

RSS = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item><guid>1</guid>"
       b"<title>acme ok</title></item></channel></rss>")


def _once(tmp: Path, sources: str, extra: str = "") -> tuple[float, float, str]:
    """(seconds, peak RSS MB, last stderr line) of one `monitor run --once`."""
    cfg, rules = write_config(tmp, sources=sources, extra=extra)
    env = {**{k: v for k, v in os.environ.items() if k not in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")},
           "TWITTER_BEARER_TOKEN": BEARER}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--once", "--config", str(cfg), "--rules",
                             str(rules)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.monotonic() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    last = [line for line in err.splitlines() if line.strip()][-1:] or [""]
    return took, usage.ru_maxrss / 1024, last[0][:160]


def _case(name: str, handler: object, sources: str, extra: str = "") -> None:
    with LocalServer(handler) as srv, tempfile.TemporaryDirectory() as tmp:  # type: ignore[arg-type]
        took, mb, line = _once(Path(tmp), sources.replace("URL", srv.url), extra)
    print(f"{name:52} {took:6.1f} s  peak RSS {mb:6.0f} MB   {line}", flush=True)


def _live_stream(seconds: float = 10.0) -> None:
    """The daemon reading a mastodon-stream whose server sends one line that never ends."""
    with LocalServer(lambda r: Reply(200, headers={"Content-Type": "text/event-stream"},
                                     chunks=_endless_line())) as srv, tempfile.TemporaryDirectory() as tmp:
        cfg, rules = write_config(Path(tmp), sources=f"- {{id: endless, kind: mastodon-stream, instance: '{srv.url}',"
                                  " hashtag: acme, max_backoff: 1s}\n")
        env = {k: v for k, v in os.environ.items() if k not in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")}
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(cfg), "--rules", str(rules)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        time.sleep(seconds)
        hwm = next((int(line.split()[1]) for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                    if line.startswith("VmHWM")), 0)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    cut = err.count("longer than")
    print(f"{'mastodon-stream live: one endless SSE line, ' + str(int(seconds)) + ' s':52} "
          f"peak RSS {hwm / 1024:6.0f} MB   {cut} connection(s) cut at the 1 MiB line cap, each logged", flush=True)


def main() -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; resource limit "
          f"{resource.getrlimit(resource.RLIMIT_AS)[0]}")
    fast = "# limits for this case\n  deadline: 10s\n"
    bomb = gzip_bomb()
    _case("baseline: one RSS feed", lambda r: Reply(200, RSS, {"Content-Type": "application/rss+xml"}),
          "- {id: feed, kind: rss, url: 'URL/feed.xml'}\n")
    _case("rss: 1 GB double-gzip bomb", lambda r: Reply(200, bomb, {"Content-Encoding": "gzip, gzip"}),
          "- {id: bomb, kind: rss, url: 'URL/feed.xml'}\n")
    _case("mastodon-stream back-fill: 1 GB double-gzip page",
          lambda r: Reply(200, bomb, {"Content-Encoding": "gzip, gzip", "Content-Type": "application/json"}),
          "- {id: masto, kind: mastodon-stream, instance: 'URL', hashtag: acme}\n")
    _case("twitter: 100 KB at a byte every 0.5 s (deadline 10 s)",
          lambda r: Reply(200, headers={"Content-Type": "application/json", "Content-Length": "100000"},
                          chunks=_trickle(b"{"), chunk_delay=0.5),
          "- {id: x, kind: twitter, query: acme, api_url: 'URL'}\n", fast)
    _case("mastodon-stream back-fill: trickling page (once_budget 5 s)",
          lambda r: Reply(200, headers={"Content-Type": "application/json"}, chunks=_trickle(b"["), chunk_delay=0.5),
          "- {id: masto, kind: mastodon-stream, instance: 'URL', hashtag: acme, once_budget: 5s}\n")
    _case("rss: server that never sends headers (deadline 10 s)", lambda r: Reply(200, b"", delay=120),
          "- {id: silent, kind: rss, url: 'URL/feed.xml'}\n", fast)
    _live_stream()


if __name__ == "__main__":
    main()
