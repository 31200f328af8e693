"""`api_url` is the one key naming a kind's remote endpoint, in the polled and the stream kinds alike.

Three kinds first named it otherwise (`jetstream`: `url`, `mastodon-stream`: `instance`, `mastodon`:
`instances`); the older keys keep working, and writing both is a config error at the api_url line.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from monitor.config.settings import load_config
from monitor.core.errors import ConfigValidationError
from monitor.sources import REGISTRY, registered
from tests.conftest import write_config

CASES = {   # kind: (the rest of a valid source, the older key, its value, where the endpoint ends up)
    "jetstream": ([], "url", "ws://127.0.0.1:9/subscribe", lambda o: o.url),
    "mastodon-stream": (["hashtag: acme"], "instance", "https://masto.example", lambda o: o.instance),
    "mastodon": (["tags: [acme]", "every: 5m"], "instances", "[https://masto.example]", lambda o: o.instances),
}
ENDPOINT = {"jetstream": "ws://127.0.0.1:9/subscribe", "mastodon-stream": "https://masto.example",
            "mastodon": "https://masto.example"}


def _source(kind: str, *keys: str) -> str:
    return "".join(f"{'- ' if i == 0 else '  '}{line}\n"
                   for i, line in enumerate(["id: s", f"kind: {kind}", *keys, *CASES[kind][0]]))


@pytest.mark.parametrize("kind", sorted(CASES))
def test_api_url_and_the_older_key_name_the_same_endpoint(tmp_path, kind):
    _, older, value, where = CASES[kind]
    (tmp_path / "new").mkdir()
    (tmp_path / "old").mkdir()
    with_api_url, _ = write_config(tmp_path / "new", sources=_source(kind, f"api_url: '{ENDPOINT[kind]}'"))
    with_older, _ = write_config(tmp_path / "old", sources=_source(kind, f"{older}: {value}"))
    new = where(load_config(with_api_url).sources[0])
    assert new == where(load_config(with_older).sources[0])
    assert ENDPOINT[kind] in (new if isinstance(new, list) else [new])


@pytest.mark.parametrize("kind", sorted(CASES))
def test_both_keys_at_once_is_one_clear_error_at_the_api_url_line(tmp_path, kind):
    _, older, value, _ = CASES[kind]
    cfg, rules = write_config(tmp_path, sources=_source(kind, f"{older}: {value}", f"api_url: '{ENDPOINT[kind]}'"))
    line = next(i for i, text in enumerate(cfg.read_text().splitlines(), 1) if "api_url: '" in text)
    with pytest.raises(ConfigValidationError) as exc:
        load_config(cfg)
    assert [str(i) for i in exc.value.issues] == [
        f"{cfg}:{line} sources[0].api_url: give api_url or {older}, not both: they name the same endpoint "
        "(api_url is the preferred name)"]
    proc = subprocess.run([sys.executable, "-m", "monitor", "check", "--config", str(cfg), "--rules", str(rules)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and f"{cfg}:{line} sources[0].api_url: give api_url or {older}" in proc.stderr


def test_mastodon_stream_without_an_instance_asks_for_api_url(tmp_path):
    cfg, _ = write_config(tmp_path, sources=_source("mastodon-stream"))
    with pytest.raises(ConfigValidationError, match=r'sources\[0\]: missing required key "api_url": the instance'):
        load_config(cfg)


def test_every_kind_with_a_remote_endpoint_takes_api_url():
    """One name across kinds: a kind that talks to one configurable remote host (not a page or feed URL
    given per source, not a mail server or a listener) has an `api_url` key."""
    own_address = {"rss", "reviews", "imap", "inbound"}     # the URL/host *is* the thing watched or served
    missing = [kind for kind, cls in registered().items()
               if kind not in own_address and "api_url" not in cls.Options.model_fields]
    assert missing == []
    # ...and only those: a key that means nothing for a kind stays an unknown-key error
    assert [k for k in sorted(own_address) if "api_url" in REGISTRY[k].Options.model_fields] == []
