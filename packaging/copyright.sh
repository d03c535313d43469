#!/bin/sh
# Writes the machine-readable (DEP-5) copyright file for a built binary to
# stdout: origin-agent itself (Apache-2.0), the Go standard library, and
# every module `go version -m BINARY` lists as linked in, each with its own
# licence text from the module cache. Generated, so it cannot drift from
# what the static binary really contains. Fails on a licence it cannot name.
set -eu
bin=$1
go=${GO:-go}
modcache=$($go env GOMODCACHE)

# indent turns a licence text into a DEP-5 field continuation.
indent() {
	sed -e 's/[[:space:]]*$//' -e 's/^$/./' -e 's/^/ /' "$1" |
		sed -e '1{/^ \.$/d}' | sed -e '${/^ \.$/d}'
}

# name prints the SPDX-style short name of a licence file.
name() {
	if grep -q 'Apache License' "$1" && grep -q 'Version 2.0' "$1"; then
		echo Apache-2.0
	elif grep -q 'Permission is hereby granted, free of charge' "$1"; then
		echo Expat
	elif grep -q 'Redistribution and use in source and binary forms' "$1"; then
		if grep -q 'Neither the name\|names of its contributors\|name of the copyright holder' "$1"; then
			echo BSD-3-clause
		else
			echo BSD-2-clause
		fi
	elif grep -q 'Mozilla Public License' "$1"; then
		echo MPL-2.0
	elif grep -q 'ISC License\|Permission to use, copy, modify, and/or distribute' "$1"; then
		echo ISC
	else
		echo "copyright.sh: cannot name the licence in $1" >&2
		exit 1
	fi
}

cat <<'HEAD'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: origin-agent
Upstream-Contact: https://github.com/origin-agent/origin-agent/issues
Source: https://github.com/origin-agent/origin-agent
Comment: /usr/bin/origin-agent is a static Go binary. Besides origin-agent
 itself it contains the Go standard library and the Go modules listed below
 (paths are module paths), each under its own licence.

Files: *
Copyright: 2026 The origin-agent authors
License: Apache-2.0

HEAD

stanza() { # module-path licence-file
	lic=$(name "$2")
	copy=$(grep -m1 -i '^[[:space:]]*copyright (c)\|^[[:space:]]*copyright [0-9]' "$2" | sed -e 's/^[[:space:]]*//' -e 's/^[Cc]opyright *\(([cC]) *\)\{0,1\}//' || true)
	[ -n "$copy" ] || copy="the authors of $1"
	printf 'Files: %s/*\nCopyright: %s\n' "$1" "$copy"
	if [ "$lic" = Apache-2.0 ]; then
		printf 'License: Apache-2.0\n\n'
	else
		printf 'License: %s\n' "$lic"
		indent "$2"
		printf '\n'
	fi
}

goroot=$($go env GOROOT)
stanza "golang.org/go" "$goroot/LICENSE"
$go version -m "$bin" | awk '$1 == "dep" { print $2, $3 } $1 == "=>" { print "replace", $2, $3 }' |
	while read -r mod ver; do
		[ "$mod" != replace ] || continue
		dir=$modcache/$(printf '%s' "$mod" | sed 's/[A-Z]/!&/g' | tr 'A-Z' 'a-z')@$ver
		lf=$(ls "$dir" | grep -i -m1 -E '^(licen[cs]e|copying)(\.md|\.txt)?$' || true)
		if [ -z "$lf" ]; then
			echo "copyright.sh: no licence file in $dir" >&2
			exit 1
		fi
		stanza "$mod" "$dir/$lf"
	done

cat <<'TAIL'
License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the "License");
 you may not use this file except in compliance with the License.
 You may obtain a copy of the License at
 .
     http://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software
 distributed under the License is distributed on an "AS IS" BASIS,
 WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 See the License for the specific language governing permissions and
 limitations under the License.
 .
 On Debian systems, the full text of the Apache License, Version 2.0
 can be found in "/usr/share/common-licenses/Apache-2.0".
TAIL
