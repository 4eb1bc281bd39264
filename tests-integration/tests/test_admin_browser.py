"""The job admin in a real browser: Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium
against a live server, with a real Celery worker running the jobs.

A staff user signs in, uploads a 5,000-record CSV into the ledger's transactions, sees the dry run (4,990 would
succeed, 10 would fail), confirms it, watches the progress bar reach 100%, downloads the failed records, then
imports a second file and aborts that job from its page. Screenshots of the key pages are saved to
``tests-integration/.artifacts/admin/`` (docs/jobs.md shows one of them).

Without a browser the test is skipped, saying what to install -- except under ``CI=true``, where that is a
failure: ``.ci/run`` installs both packages. Selenium is handed the system chromedriver (Selenium Manager,
which would download one, never runs).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bulk_drf.models import BulkJob
from django.contrib.auth.models import Permission, User
from ledger.models import Account, Transaction

from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts" / "admin"
RECORDS = 5000
BAD = range(7, RECORDS, 500)  # 10 records whose amount is not a number
TIMINGS: dict[str, float] = {}


def browser_paths() -> tuple[str, str] | None:
    """The Chromium binary and the chromedriver of Debian's packages (None when either is missing)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    paths = browser_paths()
    if paths is None:
        reason = "no Chromium: apt-get install chromium chromium-driver (Debian's packages) to run the browser test"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = paths
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1500,1000"):
        options.add_argument(argument)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.downloads = downloads
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def ledger_csv(accounts: list[Account], n: int, prefix: str, bad: range = range(0)) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["account", "reference", "amount", "memo"])
    for i in range(n):
        amount = "lots" if i in bad else f"{i % 97}.25"
        writer.writerow([accounts[i % len(accounts)].pk, f"{prefix}{i:06d}", amount, f"row {i}"])
    return out.getvalue()


def operator() -> tuple[User, list[Account]]:
    """A staff user who may watch and abort their jobs and add and change transactions (no superuser)."""
    user = User.objects.create_user("operator", password="secret-pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_bulkjob", "change_bulkjob", "add_transaction", "change_transaction"]
        )
    )
    accounts = Account.objects.bulk_create(Account(owner=user, name=f"operator-{i}") for i in range(5))
    return user, accounts


def timed(step: str, started: float) -> None:
    TIMINGS[step] = round(time.monotonic() - started, 2)


def test_import_preview_confirm_progress_download_and_abort_in_a_browser(
    browser: Any, live_server: Any, start_worker: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    t0 = time.monotonic()
    worker = start_worker()
    user, accounts = operator()
    timed("worker started", t0)
    wait = WebDriverWait(browser, 60, poll_frequency=0.1)
    base = live_server.url

    # 1. Sign in to the admin.
    browser.get(f"{base}/admin/login/?next=/admin/bulk_drf/bulkjob/")
    browser.find_element(By.ID, "id_username").send_keys("operator")
    browser.find_element(By.ID, "id_password").send_keys("secret-pw")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "bulk-import-link")))
    timed("signed in", t0)

    # 2. Import: the list of targets, then the upload form with a 5,000-record CSV.
    browser.find_element(By.ID, "bulk-import-link").click()
    browser.find_element(By.PARTIAL_LINK_TEXT, "ledger.views.TransactionViewSet").click()
    data = tmp_path / "transactions.csv"
    data.write_text(ledger_csv(accounts, RECORDS, "UI", BAD))
    browser.find_element(By.ID, "id_file").send_keys(str(data))
    shot(browser, "1-import-form")
    browser.find_element(By.ID, "bulk-import-submit").click()

    # 3. The dry run: counts and the records that would fail; nothing written.
    wait.until(ec.presence_of_element_located((By.ID, "bulk-import-preview")))
    timed("preview shown", t0)
    assert browser.find_element(By.ID, "bulk-would-succeed").text == str(RECORDS - len(BAD))
    assert browser.find_element(By.ID, "bulk-would-fail").text == str(len(BAD))
    failures = browser.find_element(By.ID, "bulk-import-failures").text
    assert "A valid number is required." in failures and "UI000007" in failures
    assert Transaction.objects.count() == 0
    shot(browser, "2-import-preview")

    # 4. Confirm: the job's page, whose bar follows the worker to 100%.
    browser.find_element(By.ID, "bulk-import-confirm").click()
    wait.until(ec.presence_of_element_located((By.ID, "bulk-job-panel")))
    job = BulkJob.objects.get(owner=user)
    assert browser.current_url.endswith(f"/admin/bulk_drf/bulkjob/{job.pk}/change/")
    shot(browser, "3-job-queued")
    seen: set[float] = set()

    def at_100(driver: Any) -> bool:
        percentage = float(driver.find_element(By.ID, "bulk-job-percentage").text)
        if 0 < percentage < 100 and not any(0 < p < 100 for p in seen):
            shot(driver, "3-job-in-progress")  # the bar moving (when a poll lands mid-job)
        seen.add(percentage)
        panel = driver.find_element(By.ID, "bulk-job-panel")
        return panel.get_attribute("data-final") == "true" and max(seen) == 100.0

    WebDriverWait(browser, 60, poll_frequency=0.05, ignored_exceptions=(Exception,)).until(at_100)
    timed("bar at 100%", t0)
    state = browser.find_element(By.ID, "bulk-job-state").text
    assert state == "JobComplete", browser.find_element(By.ID, "bulk-job-panel").text
    assert browser.find_element(By.ID, "bulk-job-succeeded").text == str(RECORDS - len(BAD))
    assert browser.find_element(By.ID, "bulk-job-failed").text == str(len(BAD))
    assert Transaction.objects.filter(owner=user).count() == RECORDS - len(BAD)
    shot(browser, "4-job-complete")

    # 5. Download the failed records (the browser saves the file).
    browser.find_element(By.ID, "bulk-job-download-failed").click()
    saved = browser.downloads / f"bulk-job-{job.pk}-failed.csv"
    wait_for(saved.exists, 30, "the failed records' download")
    wait_for(lambda: not list(browser.downloads.glob("*.crdownload")), 30, "the download to finish")
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [int(r["index"]) for r in rows] == list(BAD)
    assert all("A valid number is required." in json.loads(r["errors"])["amount"][0]["message"] for r in rows)
    timed("failed records downloaded", t0)

    # 6. A second job, queued while no worker runs, aborted from its page.
    worker.stop()
    browser.get(f"{base}/admin/bulk_drf/bulkjob/import/ledger.views.TransactionViewSet/")
    second = tmp_path / "more.csv"
    second.write_text(ledger_csv(accounts, 1000, "AB"))
    browser.find_element(By.ID, "id_file").send_keys(str(second))
    browser.find_element(By.ID, "bulk-import-submit").click()
    wait.until(ec.presence_of_element_located((By.ID, "bulk-import-confirm"))).click()
    abort = wait.until(ec.element_to_be_clickable((By.ID, "bulk-job-abort")))
    assert browser.find_element(By.ID, "bulk-job-state").text == "UploadComplete"
    abort.click()
    browser.switch_to.alert.accept()  # "Abort this job? ..."
    wait.until(ec.text_to_be_present_in_element((By.ID, "bulk-job-state"), "Aborted"))
    aborted = BulkJob.objects.exclude(pk=job.pk).get(owner=user)
    assert (aborted.state, aborted.processed_records, aborted.total_records) == ("Aborted", 0, 1000)
    assert not browser.find_elements(By.ID, "bulk-job-abort")
    shot(browser, "5-job-aborted")
    timed("second job aborted", t0)

    browser.get(f"{base}/admin/bulk_drf/bulkjob/")
    shot(browser, "6-job-list")
    assert Transaction.objects.filter(reference__startswith="AB").count() == 0
    timed("total", t0)
    (ARTIFACTS / "timings.json").write_text(json.dumps(TIMINGS, indent=2))
    print(f"\nbrowser test steps (seconds since start): {TIMINGS}")
