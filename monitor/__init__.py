"""mention-monitor: hear about an unhappy customer before the story spreads."""

__version__ = "0.1.0"
