"""A Django project as small as a bulk-drf user's can be: the Celery app is loaded with Django (below)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
