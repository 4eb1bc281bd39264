"""Settings (``BULK_SIGNALS_*``), read from ``django.conf.settings`` on every access so
``override_settings`` just works."""

from __future__ import annotations

from django.conf import settings as django_settings

__all__ = ["settings"]


class _Settings:
    @property
    def WARN_MULTIPLE_RECEIVERS(self) -> bool:
        """``BULK_SIGNALS_WARN_MULTIPLE_RECEIVERS`` (default False): warn when a model gets a second
        receiver on one signal (at connect time, and as system check ``bulk_signals_django.W001``)."""
        return bool(getattr(django_settings, "BULK_SIGNALS_WARN_MULTIPLE_RECEIVERS", False))

    @property
    def IN_CHUNK_SIZE(self) -> int:
        """``BULK_SIGNALS_IN_CHUNK_SIZE`` (default 10000): the most keys put in one ``WHERE pk IN (...)``
        when loading or deleting rows; more keys make more statements."""
        value = getattr(django_settings, "BULK_SIGNALS_IN_CHUNK_SIZE", 10_000)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"BULK_SIGNALS_IN_CHUNK_SIZE must be a positive int, not {value!r}")
        return value


settings = _Settings()
