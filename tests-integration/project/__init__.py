"""The example project of bulk-signals: ledger accounts and transactions behind bulk endpoints."""

from .celery import app as celery_app

__all__ = ["celery_app"]
