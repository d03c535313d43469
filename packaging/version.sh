#!/bin/sh
# Prints the package version for a git-describe string (or, without an
# argument, for `git describe --tags --always` of HEAD), in a form both dpkg
# and rpm order correctly:
#   v1.2.3            -> 1.2.3
#   v1.2.3-rc1        -> 1.2.3~rc1          (pre-release sorts before 1.2.3)
#   v1.2.3-4-gabc1234 -> 1.2.3+git4.abc1234 (4 commits after, sorts after 1.2.3)
#   abc1234 (no tag)  -> 0.0.0+gitabc1234
set -eu
d=${1:-$(git describe --tags --always)}
# --always falls back to a bare abbreviated hash when there is no tag.
if printf '%s\n' "$d" | grep -Eq '^[0-9a-f]{7,40}$'; then
  printf '0.0.0+git%s\n' "$d"
  exit 0
fi
d=${d#v}
printf '%s\n' "$d" | sed -E \
  -e 's/-([0-9]+)-g([0-9a-f]+)$/+git\1.\2/' \
  -e 's/-/~/g' \
  -e 's/[^A-Za-z0-9.+~]/./g'
