"""The documentation tests' own machinery: a broken block fails, a block cannot be left out silently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docs_plugin
import docs_runtime
import pytest
from sybil.example import SybilFailure


def evaluate(tmp_path: Path, text: str) -> list[Any]:
    """Parse ``text`` as a document with the plugin's parsers and run its blocks; the errors, in order."""
    path = tmp_path / "page.md"
    path.write_text(text)
    document = docs_plugin.sybil.parse(path)
    document.namespace["__name__"] = "docsapp.selftest"
    docs_runtime.setup_document(document.namespace)
    outcomes: list[Any] = []
    try:
        for example in document.examples():
            try:
                example.evaluate()
            except Exception as error:
                outcomes.append(error)
            else:
                outcomes.append(None)
    finally:
        docs_runtime.teardown_document(document.namespace)
    return outcomes


def test_a_pasted_snippet_that_fails_is_a_failing_test(tmp_path: Path) -> None:
    outcomes = evaluate(tmp_path, "```python\nx = 1\n```\n\n```python\nprint(Shop)\n```\n")
    assert outcomes[0] is None and isinstance(outcomes[1], NameError)


def test_blocks_of_a_document_share_one_namespace_in_order(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "```python\nx = 1\n```\n\n```python\nassert x == 1\n```\n") == [None, None]


def test_a_block_without_a_language_fails(tmp_path: Path) -> None:
    [outcome] = evaluate(tmp_path, "```\nwhat is this?\n```\n")
    assert isinstance(outcome, SybilFailure) and "without a language" in str(outcome)


def test_a_block_whose_language_has_attributes_still_runs(tmp_path: Path) -> None:
    [outcome] = evaluate(tmp_path, '```python title="app.py"\nprint(Shop)\n```\n')
    assert isinstance(outcome, NameError)


def test_a_skip_needs_a_reason(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text("<!-- skip: next -->\n```console\nmake test\n```\n")
    with pytest.raises(ValueError, match="needs a reason"):
        docs_plugin.sybil.parse(tmp_path / "page.md")


def test_a_command_with_no_runner_fails_naming_it(tmp_path: Path) -> None:
    [outcome] = evaluate(tmp_path, "```console\nmake test\n```\n")
    assert isinstance(outcome, SybilFailure) and "line 2 (make test): no way to run this command" in str(outcome)


MODEL = """```python
from django.db import models
from django.urls import include, path
from rest_framework import routers, serializers, viewsets


class Note(models.Model):
    text = models.CharField(max_length=10)


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "text"]


class NoteViewSet(viewsets.ModelViewSet):
    queryset = Note.objects.all()
    serializer_class = NoteSerializer


router = routers.DefaultRouter()
router.register("notes", NoteViewSet)
urlpatterns = [path("api/", include(router.urls))]
```
"""


def test_curl_answers_are_compared_with_the_document(tmp_path: Path) -> None:
    outcomes = evaluate(
        tmp_path,
        MODEL
        + """
```sh
curl -u alice:pw -d '{"text": "hi"}' -H 'Content-Type: application/json' http://localhost:8000/api/notes/
# {"id": 1, ...}
curl -u alice:pw .../api/notes/1/
# {"id": 1, "text": "hello"}
```

```sh
curl -u alice:pw -d '{"text": "much too long"}' -H 'Content-Type: application/json' .../api/notes/  # 400
```
```json
{"text": ["Ensure this field has no more than 9 characters."]}
```
""",
    )
    assert outcomes[0] is None
    assert isinstance(outcomes[1], SybilFailure)
    assert 'the document shows\n  {"id": 1, "text": "hello"}\nthe answer is\n  {"id": 1, "text": "hi"}' in str(
        outcomes[1]
    )
    assert outcomes[2] is None  # the status is the one the comment says
    assert isinstance(outcomes[3], SybilFailure) and "no more than 10 characters" in str(outcomes[3])


def test_an_unexpected_error_status_fails(tmp_path: Path) -> None:
    outcomes = evaluate(tmp_path, MODEL + "\n```sh\ncurl -u alice:pw .../api/notes/7/\n```\n")
    assert isinstance(outcomes[1], SybilFailure) and "answered 404" in str(outcomes[1])


def test_commands_and_their_expected_answers() -> None:
    [one, two] = docs_runtime.parse_commands(
        "# a comment\ncurl -X DELETE \\\n  'x/?ids=1,2'  # 400 names 'x # y'\n# {\"a\": 1}\n\ncurl y\n# prose\n"
    )
    assert (one.argv, one.status, one.expected) == (["curl", "-X", "DELETE", "x/?ids=1,2"], 400, '{"a": 1}')
    assert (two.argv, two.status, two.expected) == (["curl", "y"], None, "")
    [prompted] = docs_runtime.parse_commands("$ python -c \\\n  'print(1)'\n1\n")
    assert prompted.argv == ["python", "-c", "print(1)"]
    assert docs_runtime.ellipsis_match('{"id": 3, ...}', '{"id": 3, "name": "x"}')
    assert not docs_runtime.ellipsis_match('{"id": 3, ...}', '{"id": 4, "name": "x"}')
