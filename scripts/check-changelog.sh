#!/usr/bin/env bash
# Every change to a package's src/ adds to that package's CHANGELOG.md in the same change set.
# Usage: scripts/check-changelog.sh <base-ref>  (the GitHub workflow passes the pull request's base).
# A commit whose message has the trailer "Changelog: none" waives the check (a refactor, a typo).
set -eu
base=${1:-origin/main}
if git log --format=%B "$base..HEAD" | grep -qi '^Changelog: none$'; then
  echo "changelog check waived by a 'Changelog: none' trailer"; exit 0
fi
changed=$(git diff --name-only "$base...HEAD")
status=0
for pkg in packages/*/; do
  pkg=${pkg%/}
  if grep -q "^$pkg/src/" <<<"$changed" && ! grep -q "^$pkg/CHANGELOG.md$" <<<"$changed"; then
    echo "$pkg/src changed but $pkg/CHANGELOG.md did not: add the change to its [Unreleased] section"
    status=1
  fi
done
[ $status -eq 0 ] && echo "every package whose src changed has a CHANGELOG entry"
exit $status
