"""Remote and configured strings made safe to show: secrets out of URLs, control characters made inert.

One helper for every place a URL or a remote error is shown (logs, `monitor status`, the database's
`last_error`, the Slack health notice), so none of them can forget one:

- `scrub_urls`: a source URL may carry credentials: userinfo (`http://admin:pass@host`) and signed-URL or
  token parameters (`?private_token=`, `X-Amz-Signature=`, `sig=`, `key=`, `token=`...). They are replaced by
  `[REDACTED]` wherever a URL appears in a text; `safe_netloc` is a URL's host[:port] without userinfo.
- `inert`: a server's error text may hold terminal control sequences (ESC clears a screen, CR rewrites a
  line, LF forges a log line) and bidi overrides. Every such character becomes a visible escape (`\\x1b`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

REDACTED = "[REDACTED]"
# parameter names that carry a credential or a signature (matched whole, case-insensitively)...
_SECRET_PARAMS = {
    "private_token", "access_token", "refresh_token", "id_token", "token", "auth", "auth_token", "authorization",
    "key", "api_key", "apikey", "api-key", "secret", "client_secret", "password", "passwd", "pass", "pwd",
    "sig", "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature",
    "x-goog-credential", "googleaccessid", "awsaccesskeyid", "oauth_signature", "oauth_token", "session",
    "sessionid", "code", "ticket",
}
# ...or whose name says so
_SECRET_NAME = re.compile(r"(?i)token|secret|passw|signature|credential|api[_-]?key|^sig$|^key$")
_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,15}://)([^\s/?#<>\"'`|]*@)?([^\s<>\"'`|]*)")
_PARAM = re.compile(r"([?&;])([^=&;#\s]+)=([^&;#\s]*)")
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_KEEP_NL = re.compile("[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029"
                              "\u202a-\u202e\u2066-\u2069]")


def _param(m: re.Match[str]) -> str:
    name = m.group(2)
    if name.lower() in _SECRET_PARAMS or _SECRET_NAME.search(name):
        return f"{m.group(1)}{name}={REDACTED}"
    return m.group(0)


def _url(m: re.Match[str]) -> str:
    scheme, userinfo, rest = m.group(1), m.group(2), m.group(3)
    return scheme + (f"{REDACTED}@" if userinfo else "") + _PARAM.sub(_param, rest)


def scrub_urls(text: str) -> str:
    """Every URL in `text` without its userinfo and with its secret-bearing parameters redacted."""
    if "://" not in text and "=" not in text:
        return text
    text = _URL.sub(_url, text)
    return _PARAM.sub(_param, text) if "?" in text or "&" in text else text


def safe_netloc(url: str) -> str:
    """host[:port] of a URL for messages: never its userinfo."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return url[:100]
    return netloc.rpartition("@")[2] or url[:100]


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def inert(text: str, keep_newlines: bool = False) -> str:
    """Control and direction-changing characters as visible escapes; `keep_newlines` for tracebacks."""
    return (_CONTROL_KEEP_NL if keep_newlines else _CONTROL).sub(_escape, text)


def shown(text: str) -> str:
    """Both: what every remote or URL-bearing string goes through before a person or a log sees it."""
    return inert(scrub_urls(text))
