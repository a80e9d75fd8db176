#!/bin/sh
# A stand-in for make in ci/tests/test-pipeline.sh: knows the targets check, gate, coverage and
# fuzz (printed as make's database for -p), succeeds for check and fuzz, fails with status 3
# for gate and 4 for coverage, and records every call in $FAKE_MAKE_LOG.
case "$1" in
-p*)
	printf 'check:\ngate:\ncoverage:\nfuzz:\n'
	exit 1
	;;
esac
echo "$*" >>"${FAKE_MAKE_LOG:-/dev/null}"
echo "fake make: $*"
case "$1" in
check | fuzz) exit 0 ;;
gate) exit 3 ;;
coverage) exit 4 ;;
*) exit 2 ;;
esac
