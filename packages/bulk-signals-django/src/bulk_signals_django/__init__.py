"""bulk-signals-django."""

__version__ = "0.1.0"
