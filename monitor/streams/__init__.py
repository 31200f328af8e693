"""Streaming source kinds (WebSocket, server-sent events), registered by `kind` beside the polled collectors.

Only the kind modules are imported here (config validation needs their options); the runner that drives
them imports the pipeline and is imported by the daemon.
"""

from __future__ import annotations

from . import jetstream, mastodon  # noqa: F401 - registers the kinds
from .base import STREAM_REGISTRY, StreamOptions, StreamSource, is_stream, register_stream

__all__ = ["STREAM_REGISTRY", "StreamOptions", "StreamSource", "is_stream", "register_stream"]
