import bulk_drf
import bulk_signals_core
import bulk_signals_django


def test_placeholder():
    assert bulk_drf and bulk_signals_core and bulk_signals_django
