"""mkdocs hooks (mkdocs.yml ``hooks:``): small fixes to the rendered pages."""

from __future__ import annotations

import re
from typing import Any

# The docstrings use Sphinx roles (:class:`Signal`); mkdocstrings renders the role's name as text in front of
# the code span. Keep the code span, drop the role.
_ROLE = re.compile(r":(?:class|func|meth|attr|exc|data|mod|obj):(?=<code>)")


def on_page_content(html: str, **kwargs: Any) -> str:
    """Drop the Sphinx role names left in front of code spans."""
    return _ROLE.sub("", html)
