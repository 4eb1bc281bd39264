"""A DiscoverRunner that also writes every test's outcome to ``$COMPAT_RESULTS`` (JSON).

Outcomes: ok, skip, xfail (expected failure), upass (unexpected success), fail, error; a failing
subtest makes its test ``fail``/``error``. Works with ``--parallel``: the workers' events are
replayed on this result class in the main process.
"""

import json
import os
import sys
import unittest

from django.test.runner import DiscoverRunner

_RANK = {"ok": 0, "skip": 0, "xfail": 0, "upass": 1, "fail": 2, "error": 3}


class RecordingResult(unittest.TextTestResult):
    outcomes: dict = {}

    def _record(self, test, outcome, detail=""):
        test_id = test.id()
        previous = self.outcomes.get(test_id)
        if previous is None or _RANK[outcome] > _RANK[previous[0]]:
            self.outcomes[test_id] = (outcome, detail)

    def _tail(self, err, test):
        text = self._exc_info_to_string(err, test)
        return "\n".join(text.rstrip().splitlines()[-40:])

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "ok")

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", self._tail(err, test))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "fail", self._tail(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skip", str(reason))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, "xfail")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, "upass")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._record(
                test, "fail" if failed else "error", f"[{subtest._subDescription()}]\n" + self._tail(err, test)
            )


class CompatRunner(DiscoverRunner):
    """Django's runner, recording outcomes; also logs what the graft could not make signalling."""

    def get_resultclass(self):
        return RecordingResult

    def get_test_runner_kwargs(self):
        kwargs = super().get_test_runner_kwargs()
        if sys.version_info < (3, 12) and kwargs.get("durations") is None:
            kwargs.pop("durations", None)  # Django 6 passes it; unittest < 3.12 has no such argument
        return kwargs

    def setup_test_environment(self, **kwargs):
        super().setup_test_environment(**kwargs)
        import compat_graft

        if compat_graft.MODE != "vanilla":
            problems = compat_graft.report()
            print(
                f"compat graft ({compat_graft.MODE}): {len(compat_graft.GRAFTED)} models grafted, "
                f"{len(problems)} not fully signalling"
            )
            for line in problems:
                print(f"  not signalling: {line}")

    def run_suite(self, suite, **kwargs):
        result = super().run_suite(suite, **kwargs)
        path = os.environ.get("COMPAT_RESULTS")
        if path:
            data = {k: {"outcome": o, "detail": d} for k, (o, d) in sorted(RecordingResult.outcomes.items())}
            with open(path, "w") as fh:
                json.dump(data, fh, indent=0)
        return result
