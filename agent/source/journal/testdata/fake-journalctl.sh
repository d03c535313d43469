#!/bin/sh
# A stand-in for journalctl: records its arguments, prints fixture lines
# like `journalctl -k -f -o json` would, and exits or keeps following.
echo "$*" >> "$FAKE_ARGS"
case "$*" in
*--lines=0*)
	sed -n 1,2p "$FAKE_FIXTURE"
	echo 'Failed to iterate through journal: Bad message' >&2
	echo 'not json'
	exit 1 ;;
*--since=@*)
	sed -n 1,2p "$FAKE_FIXTURE"
	exit 1 ;;
*--after-cursor=*i=4b7*)
	sed -n 3,4p "$FAKE_FIXTURE"
	exec sleep 60 ;;
esac
echo "unexpected arguments: $*" >&2
exit 2
