"""Hostile bodies for fault tests and benches: a double-gzip bomb and a billion-laughs feed."""

from __future__ import annotations

import functools
import gzip
import zlib


@functools.cache
def gzip_bomb(gigabytes: int = 1) -> bytes:
    """A few KB that inflate to `gigabytes` GB of zeros, served with `Content-Encoding: gzip, gzip`."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    inner = b"".join([c.compress(chunk) for _ in range(1024 * gigabytes)] + [c.flush()])
    return gzip.compress(inner, 9)


def entity_bomb(levels: int = 10) -> bytes:
    """Billion laughs: ten levels of ten references each expand to 10**levels copies of "lol"."""
    ents = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels))
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{ents}]>'
            f'<rss version="2.0"><channel><title>bomb</title><item><guid>b1</guid><title>&lol{levels - 1};</title>'
            '</item></channel></rss>').encode()
