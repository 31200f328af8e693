"""Inbound webhooks: surveys, helpdesks and forms POST their answers to the daemon (`inbound.listen`).

A push kind: nothing is polled or streamed; one HTTP listener serves every `kind: inbound` source at its
own `path`. Each request is checked before anything is parsed: the HMAC of the raw body with the secret in
`secret_env`, in the sender's own format (`preset:` typeform, surveymonkey, zendesk, intercom, or `generic`
with `signature_header`/`algorithm`/`encoding`/`signature_prefix` set by hand). A bad or missing signature
is 401 and nothing is stored; a body over `inbound.max_body` is 413 unread; malformed JSON is 400 with the
reason. `fields:` maps dotted paths (`form_response.answers.2.text`) to text, rating, author, contact, url.
The mention is stored (UNIQUE by the delivery id, so a replayed delivery is stored once) before the 200.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from monitor.core import logs
from monitor.core.model import Mention
from monitor.core.validation import Strict
from monitor.sources.registry import register
from monitor.sources.stream import Event, StreamOptions, StreamSource, Want

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Signing:
    header: str
    algorithm: str            # sha256 | sha1
    encoding: str             # hex | base64
    prefix: str = ""
    timestamp_header: str | None = None     # signed message is timestamp + body (Zendesk)
    id_header: str | None = None
    id_field: str | None = None


# How each sender signs (their own documentation): Typeform base64 HMAC-SHA256 "sha256=…"; SurveyMonkey
# base64 HMAC-SHA1 keyed "api_key&api_secret"; Zendesk base64 HMAC-SHA256 of timestamp + body; Intercom hex
# HMAC-SHA1 "sha1=…" keyed with the app's client secret.
PRESETS: dict[str, Signing] = {
    "generic": Signing("X-Signature-256", "sha256", "hex", "sha256=", id_header="X-Delivery-Id"),
    "typeform": Signing("Typeform-Signature", "sha256", "base64", "sha256=", id_field="event_id"),
    "surveymonkey": Signing("Sm-Signature", "sha1", "base64", id_field="event_id"),
    "zendesk": Signing("X-Zendesk-Webhook-Signature", "sha256", "base64",
                       timestamp_header="X-Zendesk-Webhook-Signature-Timestamp",
                       id_header="X-Zendesk-Webhook-Invocation-Id", id_field="id"),
    "intercom": Signing("X-Hub-Signature", "sha1", "hex", "sha1=", id_field="id"),
}


class InboundFields(Strict):
    """Dotted paths into the JSON body; a list of paths for text joins every one found."""

    text: str | list[str]
    title: str | None = None
    rating: str | None = None
    author: str | None = None
    contact: str | None = None
    url: str | None = None
    language: str | None = None


class InboundOptions(StreamOptions):
    path: str                                 # e.g. /hooks/nps; unique per source
    secret_env: str                           # the signing secret (never logged)
    preset: Literal["generic", "typeform", "surveymonkey", "zendesk", "intercom"] = "generic"
    signature_header: str | None = None       # overrides the preset's
    algorithm: Literal["sha256", "sha1"] | None = None
    encoding: Literal["hex", "base64"] | None = None
    signature_prefix: str | None = None
    id_field: str | None = None               # dotted path of the delivery id (replays are stored once)
    id_header: str | None = None
    rating_max: float = Field(5.0, gt=0)      # e.g. 10 for NPS: ratings are stored on a 1..5 scale
    fields: InboundFields

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/") or any(c in v for c in "?# "):
            raise ValueError(f'path "{v}" must start with "/" and have no query, fragment or space')
        return v

    def signing(self) -> Signing:
        p = PRESETS[self.preset]
        return Signing(self.signature_header or p.header, self.algorithm or p.algorithm, self.encoding or p.encoding,
                       p.prefix if self.signature_prefix is None else self.signature_prefix, p.timestamp_header,
                       self.id_header or p.id_header, self.id_field or p.id_field)


@register
class InboundSource(StreamSource):
    """Signed webhooks (Typeform, SurveyMonkey, Zendesk, Intercom, any HMAC sender) POSTed to `inbound.listen`."""

    kind = "inbound"
    push: ClassVar[bool] = True             # served by the inbound listener, never run as a stream
    Options = InboundOptions
    example: ClassVar[dict[str, Any]] = {"path": "/hooks/nps", "secret_env": "NPS_WEBHOOK_SECRET",
                                         "fields": {"text": "answer.comment", "rating": "answer.score"}}

    def read(self, cursor: Any, want: Want, stop: threading.Event, *, catch_up_to: float | None = None
             ) -> Iterator[Event]:
        return iter(())


def dig(doc: Any, path: str | None) -> Any:
    """`a.b.0.c` into nested dicts and lists; None when any step is missing."""
    if not path:
        return None
    for part in path.split("."):
        if isinstance(doc, dict):
            doc = doc.get(part)
        elif isinstance(doc, list) and part.lstrip("-").isdigit() and -len(doc) <= int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def verify(opts: InboundOptions, secret: str, body: bytes, headers: dict[str, str]) -> bool:
    s = opts.signing()
    got = headers.get(s.header.lower(), "")
    if not got or not got.startswith(s.prefix):
        return False
    message = body
    if s.timestamp_header:
        message = headers.get(s.timestamp_header.lower(), "").encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256 if s.algorithm == "sha256" else hashlib.sha1).digest()
    want = digest.hex() if s.encoding == "hex" else base64.b64encode(digest).decode()
    return hmac.compare_digest(want, got[len(s.prefix):].strip())


class Refused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def to_mention(opts: InboundOptions, body: bytes, headers: dict[str, str]) -> Mention:
    """The delivery as a mention (Refused 400 with the reason when it is not one)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(400, f"malformed JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise Refused(400, "the body must be a JSON object")
    f = opts.fields
    paths = [f.text] if isinstance(f.text, str) else f.text
    parts = [str(v) for v in (dig(doc, p) for p in paths) if v not in (None, "")]
    if not parts:
        raise Refused(400, f"no text at {', '.join(paths)}")
    s = opts.signing()
    delivery = (headers.get(s.id_header.lower()) if s.id_header else None) or dig(doc, s.id_field)
    external = str(delivery) if delivery not in (None, "") else "sha256:" + hashlib.sha256(body).hexdigest()
    rating = dig(doc, f.rating)
    stars = None
    if isinstance(rating, int | float | str) and str(rating).replace(".", "", 1).lstrip("-").isdigit():
        stars = max(1.0, min(5.0, float(rating) / opts.rating_max * 5.0)) if float(rating) > 0 else 1.0
    url = dig(doc, f.url)
    contact = dig(doc, f.contact)
    lang = dig(doc, f.language)
    return Mention(source_id=opts.id, source_kind="inbound", external_id=external, text="\n".join(parts),
                   title=_str(dig(doc, f.title)), author=_str(dig(doc, f.author)) or _str(contact),
                   url=url if isinstance(url, str) and url.startswith(("http://", "https://")) else None,
                   rating=stars, language=lang if isinstance(lang, str) and len(lang) == 2 else None,
                   raw={"contact": _str(contact), "delivery": external, "rating_raw": rating})


def _str(v: Any) -> str | None:
    return str(v) if v not in (None, "") and not isinstance(v, dict | list) else None


Accept = Callable[[InboundOptions, Mention], bool]     # store it; True when new, raise to refuse with 503


class InboundListener:
    """The one HTTP listener for every inbound source (loopback by default; TLS is the proxy's job)."""

    def __init__(self, sources: list[InboundOptions], host: str, port: int, max_body: int, accept: Accept,
                 env: dict[str, str] | None = None):
        self.by_path = {s.path: s for s in sources}
        self.max_body = max_body
        self.accept = accept
        self.env = env if env is not None else dict(os.environ)
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 15            # a sender that stalls mid-request does not hold a thread for ever

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._reply(405 if self.path.split("?")[0] in outer.by_path else 404, {"error": "POST only"})

            def do_POST(self) -> None:
                status, answer = outer.handle(self.path.split("?")[0], {k.lower(): v for k, v in self.headers.items()},
                                              self.rfile)
                self._reply(status, answer)

            def _reply(self, status: int, answer: dict[str, Any]) -> None:
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                if status == 413:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer((host, port), _H)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def handle(self, path: str, headers: dict[str, str], stream: Any) -> tuple[int, dict[str, Any]]:
        opts = self.by_path.get(path)
        if opts is None or not opts.enabled:
            return 404, {"error": "not found"}
        length = headers.get("content-length", "")
        if not length.isdigit():
            return 411, {"error": "Content-Length required"}
        if int(length) > self.max_body:
            log.warning("inbound delivery too large", extra={"source_id": opts.id, "bytes": int(length)})
            return 413, {"error": f"body over {self.max_body} bytes"}
        body = stream.read(int(length))
        secret = self.env.get(opts.secret_env)
        if not secret:
            log.error("inbound source has no secret in $%s: every delivery is refused", opts.secret_env,
                      extra={"source_id": opts.id})
            return 401, {"error": "signature cannot be checked"}
        logs.add_secret(secret)
        if not verify(opts, secret, body, headers):
            log.warning("inbound delivery with a bad signature refused", extra={"source_id": opts.id})
            return 401, {"error": "bad signature"}
        try:
            mention = to_mention(opts, body, headers)
        except Refused as exc:
            log.warning("inbound delivery refused: %s", exc.reason, extra={"source_id": opts.id})
            return exc.status, {"error": exc.reason}
        try:
            new = self.accept(opts, mention)
        except Exception:  # noqa: BLE001 - not stored: the sender retries on a 5xx
            log.exception("inbound delivery could not be stored", extra={"source_id": opts.id})
            return 503, {"error": "not stored, retry later"}
        return 200, {"ok": True, "stored": new, "id": mention.external_id}

    def start(self) -> InboundListener:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="inbound", daemon=True)
        self._thread.start()
        log.info("inbound listener started", extra={"url": self.url, "paths": sorted(self.by_path)})
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
