"""Peak memory of the web process during a large job upload (issue 10: uploads parsed as a stream).

Starts the example project with ``manage.py runserver --noreload --nothreading`` on a fresh SQLite file
(``--state-dir``, default a temporary directory), creates a user, warms the process up with a small
upload, then for each format sends one ``PUT /api/bulk-jobs/{id}/data/`` of ``--mb`` megabytes (JSON
array, then CSV) and reads the server's ``VmRSS`` (idle) and ``VmHWM`` (peak; reset through
``/proc/<pid>/clear_refs`` before each upload) from ``/proc``. Prints one line per format and the goal
``peak <= 1.5 x idle + 50 MB``. Linux only.

    .venv/bin/hatch run integration:python tests-integration/bench/upload_memory.py --mb 50

To measure another version of bulk-drf, put its ``src`` first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def request(port: int, method: str, path: str, body: bytes | Path = b"", content_type: str = "application/json"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    auth = base64.b64encode(b"alice:pw").decode()
    headers = {"Authorization": f"Basic {auth}", "Content-Type": content_type}
    if isinstance(body, Path):
        headers["Content-Length"] = str(body.stat().st_size)
        conn.putrequest(method, path)
        for key, value in headers.items():
            conn.putheader(key, value)
        conn.endheaders()
        with body.open("rb") as f:
            while piece := f.read(1 << 16):
                conn.send(piece)
    else:
        conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def write_bodies(directory: Path, megabytes: int, account: int) -> tuple[Path, Path, int, int]:
    memo = "m" * 200
    target = megabytes * 1_000_000
    row = f'{{"account": {account}, "reference": "R{0:039d}", "amount": "12.25", "memo": "{memo}"}}'
    json_count = min(199_000, target // (len(row) + 2))
    json_path = directory / "upload.json"
    with json_path.open("w") as f:
        f.write("[")
        for i in range(json_count):
            f.write(
                ("," if i else "") + f'{{"account": {account}, "reference": "R{i:039d}", "amount": "12.25", '
                f'"memo": "{memo}"}}'
            )
        f.write("]")
    line = f"{account},R{0:039d},12.25,{memo}\n"
    csv_count = min(199_000, target // len(line))
    csv_path = directory / "upload.csv"
    with csv_path.open("w") as f:
        f.write("account,reference,amount,memo\n")
        for i in range(csv_count):
            f.write(f"{account},C{i:039d},12.25,{memo}\n")
    return json_path, csv_path, json_count, csv_count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50, help="size of each upload in megabytes (default 50)")
    parser.add_argument("--state-dir", default=None, help="where the SQLite file lives (default: a temp dir)")
    args = parser.parse_args()
    state = Path(args.state_dir or tempfile.mkdtemp(prefix="bulk-upload-memory-"))
    env = {"DJANGO_SETTINGS_MODULE": "project.settings", **os.environ, "BULK_STATE_DIR": str(state)}
    for name in ("DATABASE_URL", "REDIS_URL", "BULK_DB_NAME"):
        env.pop(name, None)  # SQLite, file cache, filesystem broker: nothing shared with other runs

    def run(*cmd: str) -> None:
        subprocess.run([sys.executable, *cmd], cwd=PROJECT, env=env, check=True, stdout=subprocess.DEVNULL)

    run("manage.py", "migrate", "--noinput")
    run(
        "manage.py",
        "shell",
        "-c",
        "from django.contrib.auth.models import User; from ledger.models import Account; "
        "u = User.objects.create_user('alice', password='pw'); Account.objects.create(owner=u, name='a')",
    )
    import sqlite3

    account = sqlite3.connect(state / "db.sqlite3").execute("select max(id) from ledger_account").fetchone()[0]
    json_path, csv_path, json_count, csv_count = write_bodies(state, args.mb, account)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(state / "server.log").open("wb"),
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        # warm-up: every module the upload path imports is loaded before "idle" is read
        status, _ = request(
            port,
            "POST",
            "/api/transactions/bulk/",
            json.dumps([{"account": account, "reference": "W1", "amount": "1.00"}]).encode(),
        )
        assert status == 202, status
        where = [sys.executable, "-c", "import bulk_drf; print(bulk_drf.__file__)"]
        print(f"bulk-drf from: {subprocess.run(where, env=env, capture_output=True, text=True).stdout.strip()}")
        ok = True
        for label, path, count, content_type, staged in (
            ("JSON, PUT data/", json_path, json_count, "application/json", True),
            ("CSV, PUT data/", csv_path, csv_count, "text/csv", True),
            ("JSON, one-shot POST bulk/", json_path, json_count, "application/json", False),
        ):
            if staged:
                status, data = request(port, "POST", "/api/transactions/bulk/jobs/", b'{"operation": "insert"}')
                assert status == 201, (status, data)
                method, url, expected = "PUT", f"/api/bulk-jobs/{json.loads(data)['id']}/data/", 201
            else:
                method, url, expected = "POST", "/api/transactions/bulk/", 202
            idle = status_kb(server.pid, "VmRSS")
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # peak := current
            started = time.monotonic()
            status, data = request(port, method, url, path, content_type)
            seconds = time.monotonic() - started
            peak = status_kb(server.pid, "VmHWM")
            goal = 1.5 * idle + 50 * 1024
            size_mb = path.stat().st_size / 1e6
            held = peak <= goal
            ok &= held and status == expected
            print(
                f"{label}: {size_mb:.1f} MB, {count} records -> HTTP {status} in {seconds:.1f}s; web process "
                f"idle {idle / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB (+{(peak - idle) / 1024:.0f} MiB); "
                f"goal <= {goal / 1024:.0f} MiB: {'held' if held else 'MISSED'}"
                + ("" if status == expected else f" [{data[:200]!r}]")
            )
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
