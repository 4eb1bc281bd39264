"""How the documentation's code blocks run: a throwaway Django project, and what each kind of block does.

- **python** blocks run in one namespace per document, in order, as a reader pastes them: a document's
  module is ``docsapp.<document>`` (so a model a snippet defines belongs to the ``docsapp`` app, as it would in
  your app's ``models.py``), and a model gets its table as soon as it is defined (what ``makemigrations``
  + ``migrate`` do for a reader). ``<!-- invisible-code-block: python -->`` blocks run too:
  they hold what a snippet assumes the reader already has (their own model, say), never what it shows.
- **console** / **sh** blocks run command by command (see ``ConsoleEvaluator``): ``curl`` against the
  document's own ``urlpatterns`` in process, ``python manage.py ...`` as ``call_command`` in this project,
  ``python -c`` and the example project's ``manage.py`` as subprocesses. Anything else (``make test``,
  ``pip install``) must be marked ``<!-- skip: next "why it is not run" -->``.
- a **json** block right after a console block is the answer of its last request, compared exactly.

The project: SQLite in memory, ``rest_framework``, ``bulk_signals_django``, ``bulk_drf`` and ``docsapp``;
users ``alice`` and ``bob`` (password ``pw``) exist for the ``curl -u`` examples.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sybil import Example

ROOT = Path(__file__).resolve().parent.parent
APP = "docsapp"
LAST_RESPONSE = "__docs_last_response__"
CONSOLE_LANGUAGES = ("console", "sh", "bash", "shell")


def configure_django() -> None:
    """Settings of the throwaway project, the tables of its apps, and the users of the examples."""
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(
        SECRET_KEY="documentation-tests",
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "rest_framework",
            "bulk_signals_django",
            "bulk_drf",
            APP,
        ],
        ROOT_URLCONF=f"{APP}.urls",
        MIDDLEWARE=[],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        CELERY_TASK_ALWAYS_EAGER=True,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "rest_framework.authentication.SessionAuthentication",
                "rest_framework.authentication.BasicAuthentication",
            ],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        },
    )
    django.setup()
    import docsapp.urls  # noqa: F401 - the documents set its urlpatterns
    from django.db.models.signals import class_prepared

    class_prepared.connect(create_table, weak=False)

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User

    for name in ("alice", "bob"):
        User.objects.create_user(name, password="pw")


# -- documents -------------------------------------------------------------------------------------------


def module_name(path: str) -> str:
    """``docs/core.md`` -> ``docsapp.docs_core``: the module a document's code runs as."""
    relative = Path(path).resolve().relative_to(ROOT).with_suffix("")
    return f"{APP}.{re.sub(r'[^0-9A-Za-z]+', '_', str(relative)).strip('_').lower()}"


def setup_document(namespace: dict[str, Any]) -> None:
    """Before a document's first block (the name is set by the first block's evaluator: see ``ensure_name``)."""
    namespace[LAST_RESPONSE] = None


def teardown_document(namespace: dict[str, Any]) -> None:
    """After a document: its tables dropped, its models and URLs forgotten, its namespace emptied."""
    from django.apps import apps
    from django.db import connection
    from django.urls import clear_url_caches

    models = list(apps.all_models[APP].values())
    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in reversed(models):
            if model._meta.db_table in existing:
                editor.delete_model(model)
    apps.all_models[APP].clear()
    apps.clear_cache()
    sys.modules[f"{APP}.urls"].urlpatterns = []  # type: ignore[attr-defined]
    clear_url_caches()
    namespace.clear()


def ensure_name(example: Example) -> None:
    if "__name__" not in example.namespace:
        example.namespace["__name__"] = module_name(example.path)


def create_table(sender: Any, **kwargs: Any) -> None:
    """A model a document defines gets its table at once: what a reader's makemigrations + migrate do."""
    from django.db import connection

    if sender._meta.app_label == APP and not sender._meta.abstract and not sender._meta.proxy:
        with connection.schema_editor() as editor:
            editor.create_model(sender)


class PythonEvaluator:
    """Run a python block in the document's namespace (as the document's module: see ``ensure_name``)."""

    def __init__(self) -> None:
        from sybil.evaluators.python import PythonEvaluator as Sybils

        self.run = Sybils()

    def __call__(self, example: Example) -> None:
        ensure_name(example)
        self.run(example)


# -- console blocks --------------------------------------------------------------------------------------


@dataclass
class Command:
    """One command of a console block, with what the document says it answers."""

    line: int  # in the block
    argv: list[str]
    status: int | None = None  # from a trailing comment: "curl ...  # 400 ..."
    expected: str = ""  # the comment line right under it: "# {...}"


def split_comment(line: str) -> tuple[str, str]:
    """``cmd 'a # b'  # note`` -> (``cmd 'a # b'``, ``note``): the first ``#`` outside quotes starts a comment."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def parse_commands(source: str) -> list[Command]:
    """The commands of a console block (with ``$ `` prompts: the prompted lines, the others being output); a
    comment line starting with ``{`` or ``[`` right under a command is that command's expected answer (``...``
    stands for any text)."""
    commands: list[Command] = []
    pending = ""
    previous_was_command = False
    # A session with prompts ("$ make test" then its output): the prompted lines are the commands.
    prompted = any(raw.lstrip().startswith("$ ") for raw in source.splitlines())
    for number, raw in enumerate(source.splitlines(), 1):
        continuing = bool(pending)
        line = pending + raw.strip()
        pending = ""
        if prompted and not continuing and not line.startswith("$ ") and not line.startswith("#"):
            previous_was_command = False
            continue
        line = line.removeprefix("$ ")
        if line.endswith("\\"):
            pending = line[:-1].rstrip() + " "
            continue
        if line.startswith("#"):
            text = line[1:].strip()
            if previous_was_command and text[:1] in ("{", "["):
                commands[-1].expected = text
            previous_was_command = False
            continue
        previous_was_command = bool(line)
        if line:
            code, comment = split_comment(line)
            status = int(comment[:3]) if re.match(r"\d{3}\b", comment) else None
            commands.append(Command(number, shlex.split(code), status))
    return commands


def ellipsis_match(expected: str, actual: str) -> bool:
    """Whether ``actual`` is ``expected`` with each ``...`` standing for any text (doctest's ELLIPSIS)."""
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


@dataclass
class Response:
    status: int
    body: Any  # parsed JSON, or the text


class ConsoleEvaluator:
    """Run the commands of a console/sh block, or fail naming the one that cannot be run here."""

    def __init__(self) -> None:
        self.state_dirs: dict[str, Path] = {}

    def __call__(self, example: Example) -> str | None:
        ensure_name(example)
        set_urls(example)  # the document's urlpatterns are the project's URLs while its commands run
        for command in parse_commands(example.parsed):
            where = f"line {example.line + command.line} ({shlex.join(command.argv)})"
            try:
                response = self.run(example, command.argv)
            except CannotRun as refused:
                return f"{where}: {refused}"
            example.namespace[LAST_RESPONSE] = response
            problem = check(command, response)
            if problem:
                return f"{where}: {problem}"
        return None

    def run(self, example: Example, argv: list[str]) -> Response:
        if argv[0] == "curl":
            return curl(argv[1:])
        if argv[:2] == ["python", "manage.py"]:
            return manage(argv[2:])
        if argv[:2] == ["python", "-c"]:
            return subprocess_response([sys.executable, *argv[1:]], env=os.environ.copy())
        if argv[:4] == [".venv/bin/hatch", "run", "integration:python", "tests-integration/manage.py"]:
            return self.example_project(example, argv[4:])
        raise CannotRun(
            "no way to run this command in the documentation tests: mark the block "
            '<!-- skip: next "why it is not run" --> or make it one of curl, python manage.py, python -c'
        )

    def example_project(self, example: Example, args: list[str]) -> Response:
        """``manage.py`` of the example project (tests-integration/), in this interpreter (it is the integration
        environment's), on SQLite in a folder of this document's own: never the developer's database."""
        if example.path not in self.state_dirs:
            self.state_dirs[example.path] = Path(tempfile.mkdtemp(prefix="docs-example-project-"))
        state = self.state_dirs[example.path]
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
        env["BULK_STATE_DIR"] = str(state)
        if args[:1] == ["createsuperuser"]:
            # No terminal here: Django's own non-interactive mode, with the answers in its environment variables.
            args = [*args, "--noinput"]
            env.update(
                DJANGO_SUPERUSER_USERNAME="admin",
                DJANGO_SUPERUSER_EMAIL="admin@example.com",
                DJANGO_SUPERUSER_PASSWORD="pw",
            )
        return subprocess_response([sys.executable, "tests-integration/manage.py", *args], env=env)


class CannotRun(Exception):
    """A command the documentation tests have no way to run."""


def check(command: Command, response: Response) -> str | None:
    if command.status is not None and response.status != command.status:
        return f"answered {response.status}, the document says {command.status}: {render(response.body)}"
    if command.status is None and not 200 <= response.status < 300:
        return f"answered {response.status}: {render(response.body)}"
    if command.expected and not ellipsis_match(command.expected, render(response.body)):
        return f"the document shows\n  {command.expected}\nthe answer is\n  {render(response.body)}"
    return None


def render(body: Any) -> str:
    return body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)


def subprocess_response(argv: list[str], env: dict[str, str]) -> Response:
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    return Response(200 if done.returncode == 0 else 500, (done.stdout + done.stderr).strip())


def manage(args: list[str]) -> Response:
    """``python manage.py <command>`` in a reader's project: this one."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=out)
    except Exception as error:
        return Response(500, f"{out.getvalue()}{type(error).__name__}: {error}")
    return Response(200, out.getvalue().strip())


def curl(args: list[str]) -> Response:
    """The request a ``curl`` command line sends, made with DRF's test client against the document's URLs."""
    from rest_framework.test import APIClient

    method, headers, data, url = None, {}, None, None
    options = iter(args)
    for arg in options:
        if arg in ("-u", "--user"):
            user, _, password = next(options).partition(":")
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["HTTP_AUTHORIZATION"] = f"Basic {token}"
        elif arg in ("-X", "--request"):
            method = next(options)
        elif arg in ("-H", "--header"):
            name, _, value = next(options).partition(":")
            key = name.strip().upper().replace("-", "_")
            headers[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value.strip()
        elif arg in ("-d", "--data", "--data-binary", "--data-raw"):
            data = next(options)
            if data.startswith("@") and arg != "--data-raw":
                raise CannotRun(f"reads the file {data[1:]}: put the data in the command, or mark the block")
        elif arg.startswith("-"):
            raise CannotRun(f"unknown curl option {arg}")
        else:
            url = arg
    if url is None:
        raise CannotRun("no URL")
    path = re.sub(r"^(https?://[^/]+|\.\.\.)", "", url)
    content_type = headers.pop("CONTENT_TYPE", "application/x-www-form-urlencoded")
    client = APIClient(SERVER_NAME="localhost", SERVER_PORT="8000")
    response = client.generic(
        method or ("POST" if data is not None else "GET"),
        path,
        data=(data or "").encode(),
        content_type=content_type,
        **headers,
    )
    body: Any = response.content.decode()
    if response.get("Content-Type", "").startswith("application/json"):
        body = json.loads(body)
    return Response(response.status_code, body)


def set_urls(example: Example) -> None:
    from django.urls import clear_url_caches

    sys.modules[f"{APP}.urls"].urlpatterns = example.namespace.get("urlpatterns", [])  # type: ignore[attr-defined]
    clear_url_caches()


def response_evaluator(example: Example) -> str | None:
    """A json block right after a console block: the answer of that block's last command, exactly."""
    response: Response | None = example.namespace.get(LAST_RESPONSE)
    if response is None:
        return "a json block after a console block that made no request"
    text = str(example.parsed)
    try:
        expected = json.loads(text)
    except ValueError:
        flat = re.sub(r"\s*\n\s*", " ", text.strip())
        flat = re.sub(r"([\[{]) ", r"\1", re.sub(r" ([\]}])", r"\1", flat))
        if ellipsis_match(flat, render(response.body)):
            return None
        return f"the document shows\n  {flat}\nthe answer is\n  {render(response.body)}"
    if expected != response.body:
        return f"the document shows\n  {json.dumps(expected)}\nthe answer is\n  {render(response.body)}"
    return None
