"""One module per source kind; each registers itself with `@register` (see `monitor.sources.registry`)."""
