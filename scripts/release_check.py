"""Checks on the built distributions, before anything is uploaded (scripts/release-check.sh runs it).

``python scripts/release_check.py DIST_DIR [--tag TAG] PACKAGE...`` reads each package's wheel and sdist in
DIST_DIR and checks, per package:

- the version (``__version__``, which hatch reads for the metadata) is the newest released section of its
  CHANGELOG.md (``## [X.Y.Z] - YYYY-MM-DD``, below ``## [Unreleased]``), and the tag, when given, names it;
- LICENSE: the package's copy is the repository's, it is in the wheel (``.dist-info/licenses/``) and the
  sdist, and the metadata says ``License-Expression: MIT`` (no ``License ::`` classifier: PEP 639 replaces them);
- the long description is the README, as Markdown, and every link in it is absolute (it is read on PyPI);
- the five Project-URLs (Homepage, Documentation, Changelog, Source, Issues), ``Requires-Python: >=3.11``,
  the shared classifiers (Python 3.11-3.13, Typing :: Typed; Django 4.2/5.2/6.0 for the Django packages);
- no cache or build leftover in the sdist (.hypothesis, .pytest_cache, __pycache__, .coverage, ...);
- a dependency on a sibling package admits the sibling's current version.

Prints one line per check and ``N passed, N failed``; exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import re
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "bulk-signals-core": "bulk_signals_core",
    "bulk-signals-django": "bulk_signals_django",
    "bulk-drf": "bulk_drf",
}
URLS = {"Homepage", "Documentation", "Changelog", "Source", "Issues"}
PYTHON_CLASSIFIERS = {f"Programming Language :: Python :: 3.{minor}" for minor in (11, 12, 13)}
DJANGO_CLASSIFIERS = {"Framework :: Django", *(f"Framework :: Django :: {v}" for v in ("4.2", "5.2", "6.0"))}
SHARED_CLASSIFIERS = {"Programming Language :: Python :: 3 :: Only", "Typing :: Typed", *PYTHON_CLASSIFIERS}
SDIST_FORBIDDEN = re.compile(
    r"(^|/)(\.hypothesis|\.pytest_cache|\.mypy_cache|\.ruff_cache|__pycache__|htmlcov|dist|build)(/|$)"
    r"|\.py[cod]$|(^|/)\.coverage|\.sqlite3$|\.so$"
)
RELEASE_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?\s*$", re.M)
# A Markdown link or image target, and a bare HTML href/src.
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)|(?:href|src)=[\"']([^\"']+)")


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> None:
        if ok:
            self.passed += 1
            print(f"  ok    {what}")
        else:
            self.failed += 1
            print(f"  FAIL  {what}{': ' + detail if detail else ''}")


def changelog_release(package: str) -> tuple[str, str | None, list[str]]:
    """The newest released version and its date, and every heading's version in order."""
    text = (ROOT / "packages" / package / "CHANGELOG.md").read_text()
    headings = [(m["version"], m["date"]) for m in RELEASE_HEADING.finditer(text)]
    released = [(v, d) for v, d in headings if v != "Unreleased"]
    version, date = released[0] if released else ("<none>", None)
    return version, date, [v for v, _ in headings]


def source_version(package: str) -> str:
    init = ROOT / "packages" / package / "src" / PACKAGES[package] / "__init__.py"
    match = re.search(r'^__version__ = "([^"]+)"', init.read_text(), re.M)
    return match.group(1) if match else "<none>"


def wheel_metadata(wheel: Path) -> tuple[Message, dict[str, bytes]]:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        files = {n: zf.read(n) for n in names if "/licenses/" in n or n.endswith("py.typed")}
        return Parser().parsestr(zf.read(meta).decode()), files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dist", type=Path)
    parser.add_argument("packages", nargs="*", default=list(PACKAGES))
    parser.add_argument("--tag", help="the release tag, e.g. bulk-drf-v0.2.0: must name the package and its version")
    args = parser.parse_args()
    checks = Checks()
    license_text = (ROOT / "LICENSE").read_bytes()
    versions = {p: source_version(p) for p in PACKAGES}
    classifiers: dict[str, set[str]] = {}

    for package in args.packages:
        module = PACKAGES[package]
        version = versions[package]
        print(f"{package} {version}")
        released, date, headings = changelog_release(package)
        checks.check(
            headings[:1] == ["Unreleased"], "CHANGELOG.md starts with [Unreleased]", f"first heading {headings[:1]}"
        )
        checks.check(
            released == version,
            f"CHANGELOG.md's newest release is the package's version ({released} = {version})",
            f"__version__ is {version}, the newest released section is [{released}]",
        )
        checks.check(date is not None, f"[{released}] has a release date ({date})", "write '## [X.Y.Z] - YYYY-MM-DD'")
        listed = [Version(v) for v in headings if v != "Unreleased"]
        checks.check(listed == sorted(listed, reverse=True), "CHANGELOG.md's releases run newest first")
        if args.tag:
            checks.check(args.tag == f"{package}-v{version}", f"tag {args.tag} names {package} {version}")

        wheel = args.dist / f"{module}-{version}-py3-none-any.whl"
        sdist = args.dist / f"{module}-{version}.tar.gz"
        checks.check(wheel.is_file() and sdist.is_file(), f"built {wheel.name} and {sdist.name}")
        if not (wheel.is_file() and sdist.is_file()):
            continue
        meta, files = wheel_metadata(wheel)
        checks.check(meta["Version"] == version, f"wheel metadata version {meta['Version']}")
        checks.check(
            (ROOT / "packages" / package / "LICENSE").read_bytes() == license_text,
            f"packages/{package}/LICENSE is the repository's LICENSE",
        )
        checks.check(
            files.get(f"{module}-{version}.dist-info/licenses/LICENSE") == license_text, "LICENSE in the wheel"
        )
        checks.check(meta["License-Expression"] == "MIT", f"License-Expression: {meta['License-Expression']}")
        cls = set(meta.get_all("Classifier") or [])
        classifiers[package] = cls
        checks.check(
            not any(c.startswith("License ::") for c in cls), "no License :: classifier (PEP 639: the expression)"
        )
        wanted = SHARED_CLASSIFIERS | (DJANGO_CLASSIFIERS if package != "bulk-signals-core" else set())
        checks.check(wanted <= cls, "the shared classifiers", f"missing {sorted(wanted - cls)}")
        checks.check(meta["Requires-Python"] == ">=3.11", f"Requires-Python {meta['Requires-Python']}")
        urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
        checks.check(set(urls) == URLS, "Project-URLs " + ", ".join(sorted(urls)), f"want {sorted(URLS)}")
        checks.check(all(u.startswith("https://") for u in urls.values()), "Project-URLs are https")
        checks.check(meta["Description-Content-Type"] == "text/markdown", "long description is Markdown")
        description = meta.get_payload()
        readme = (ROOT / "packages" / package / "README.md").read_text()
        checks.check(description.strip() == readme.strip(), "long description is the package's README.md")
        relative = [
            t for m in LINK.finditer(description) for t in m.groups() if t and not re.match(r"(https?://|mailto:|#)", t)
        ]
        checks.check(not relative, "every link of the long description is absolute", f"relative: {relative}")
        for req in map(Requirement, meta.get_all("Requires-Dist") or []):
            sibling = canonicalize_name(req.name)
            if sibling in PACKAGES:
                checks.check(
                    req.specifier.contains(versions[sibling]),
                    f"depends on {req.name}{req.specifier}, which admits {versions[sibling]}",
                )

        with tarfile.open(sdist) as tf:
            members = {m.name.split("/", 1)[1]: m for m in tf.getmembers() if "/" in m.name}
            bad = sorted(n for n in members if SDIST_FORBIDDEN.search(n))
            checks.check(not bad, f"no caches or build leftovers in the sdist ({len(members)} files)", f"{bad[:10]}")
            for name in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "PKG-INFO"):
                checks.check(name in members, f"{name} in the sdist")
            lic = tf.extractfile(members["LICENSE"]) if "LICENSE" in members else None
            checks.check(lic is not None and lic.read() == license_text, "the sdist's LICENSE is the repository's")

    django_pkgs = [p for p in classifiers if p != "bulk-signals-core"]
    if len(django_pkgs) == 2:
        a, b = (classifiers[p] for p in django_pkgs)
        checks.check(a == b, "bulk-signals-django and bulk-drf have the same classifiers", f"{sorted(a ^ b)}")
    print(f"release check: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
