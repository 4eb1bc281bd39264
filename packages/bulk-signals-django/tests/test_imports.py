import subprocess
import sys

import bulk_signals_django
from bulk_signals_django import BulkEvent, BulkSignalModelMixin, Operation, Source


def test_version():
    assert bulk_signals_django.__version__ == "0.1.0"


def test_lazy_exports_resolve_to_the_defining_modules():
    from bulk_signals_django.events import BulkEvent as Event
    from bulk_signals_django.models import BulkSignalModelMixin as Mixin

    assert BulkEvent is Event and BulkSignalModelMixin is Mixin
    assert Operation.UPDATE.value == "update" and Source.UPSERT.value == "upsert"


def test_unknown_name_is_an_attribute_error():
    try:
        bulk_signals_django.DoesNotExist  # noqa: B018
    except AttributeError as exc:
        assert "DoesNotExist" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_before_apps_are_ready_works():
    # A fresh interpreter, settings configured but django.setup() not called.
    code = (
        "import django; from django.conf import settings; settings.configure(INSTALLED_APPS=[]);"
        "import bulk_signals_django; from bulk_signals_django import BulkEvent, HasChanged, bypass_signals;"
        "from bulk_signals_django import signals, decorators; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
