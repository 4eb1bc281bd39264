"""``manage.py bulk_drf_purge``: delete the results and data of jobs finished longer ago than the TTL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulk_drf.conf import bulk_settings
from bulk_drf.jobs.retention import purge_abandoned_jobs, purge_expired_results


class Command(BaseCommand):
    help = (
        "Delete the per-record results and stored data of bulk jobs that finished more than "
        "BULK_DRF_RESULTS_TTL seconds ago (the job rows stay), and abort the Open jobs idle for more than "
        "BULK_DRF_OPEN_JOB_TTL seconds (deleting their data)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--ttl", type=int, default=None, metavar="SECONDS", help="override BULK_DRF_RESULTS_TTL for this run"
        )
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")

    def handle(self, *args: Any, ttl: int | None, dry_run: bool, **options: Any) -> None:
        seconds = bulk_settings.RESULTS_TTL if ttl is None else ttl
        if seconds < 0:
            raise CommandError(f"--ttl must be 0 or more seconds, got {seconds}")
        report = purge_expired_results(timedelta(seconds=seconds), dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(
            f"{verb} {report.results} results and {report.data_chunks} data chunks "
            f"of {report.jobs} jobs finished more than {seconds}s ago"
        )
        if not dry_run:
            abandoned = purge_abandoned_jobs()
            if abandoned.jobs:
                self.stdout.write(
                    f"aborted {abandoned.jobs} Open jobs idle for more than {bulk_settings.OPEN_JOB_TTL}s "
                    f"and deleted their {abandoned.data_chunks} data chunks"
                )
