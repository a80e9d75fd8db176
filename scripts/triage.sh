#!/usr/bin/env bash
# make triage CRASH=file [TARGET=name] [ENGINE=libfuzzer|afl] [CORE_DIR=core] [TRIAGE_SECONDS=20]
#             [NAME=name] [ORIGIN=text]
#
# Turns one crashing input into a regression: checks that it fails with the allocator in
# CORE_DIR, minimizes it (libFuzzer -minimize_crash, or afl-tmin with ENGINE=afl), converts it
# to a text trace, and adds both to corpus/regressions/<target>-<name> and <...>.trace, where
# make replay (and so make check) runs it forever. Prints the trace and the failure report.
# TARGET is guessed from the path (a target name in it, or a <target>- file name prefix).
# NAME defaults to the first 12 hex digits of the minimized input's SHA-1; ORIGIN says in the
# trace's header what the input failed with (default: "the allocator in $CORE_DIR/").
set -uo pipefail
cd "$(dirname "$0")/.."

. scripts/fuzz-env.sh
ENGINE=${ENGINE:-libfuzzer}
SH_TRACE=${SH_TRACE:-$O/sh-trace}
CRASH=${CRASH:-}
TARGET=${TARGET:-}
TRIAGE_SECONDS=${TRIAGE_SECONDS:-20}
NAME=${NAME:-}
ORIGIN=${ORIGIN:-}

if [ -z "$CRASH" ] || [ ! -f "$CRASH" ]; then
	echo "usage: make triage CRASH=<input file> [TARGET=<target>]" >&2
	exit 2
fi
case "$NAME" in
*/* | .* | *[[:space:]]*)
	echo "triage: NAME must be a plain file name part, not '$NAME'" >&2
	exit 2
	;;
esac
if [ -z "$TARGET" ]; then
	for t in $(grep -lE '^int LLVMFuzzerTestOneInput\(.*\)$' fuzz/*.c | xargs -n1 basename | sed 's/\.c$//'); do
		case "$CRASH" in */"$t"/* | *"/$t-"* | "$t-"*) TARGET=$t ;; esac
	done
	TARGET=${TARGET:-ops_differential}
fi
echo "triage: $CRASH as a $TARGET input, allocator from $CORE_DIR/"

bash scripts/install-deps.sh base fuzz || exit 1
mkdir -p "$O"
if ! $MAKE --no-print-directory O="$O" CORE_DIR="$CORE_DIR" LINEAR="$LINEAR" "$FUZZ_O/$ENGINE/bin/$TARGET" \
	"$FUZZ_O/replay/bin/$TARGET" sh-trace >"$O/triage-build.log" 2>&1; then
	tail -n 30 "$O/triage-build.log"
	exit 1
fi
bin=$FUZZ_O/$ENGINE/bin/$TARGET
replay=$FUZZ_O/replay/bin/$TARGET
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if "$replay" -q "$CRASH" >"$tmp/orig.log" 2>&1; then
	echo "triage: $CRASH does not fail with the allocator in $CORE_DIR/; nothing to add" >&2
	exit 1
fi

echo "triage: minimizing (${TRIAGE_SECONDS}s at most)"
if [ "$ENGINE" = afl ]; then
	AFL_SKIP_CPUFREQ=1 timeout $((TRIAGE_SECONDS * 4)) afl-tmin -m none -i "$CRASH" -o "$tmp/min" \
		-- "$bin" >"$tmp/min.log" 2>&1
else
	timeout $((TRIAGE_SECONDS * 4)) "$bin" -minimize_crash=1 -max_total_time="$TRIAGE_SECONDS" \
		-exact_artifact_path="$tmp/min" "$CRASH" >"$tmp/min.log" 2>&1
fi
# Keep the minimized input only if it still fails the same way under the replay build.
if [ -f "$tmp/min" ] && ! "$replay" -q "$tmp/min" >"$tmp/min-replay.log" 2>&1; then
	min=$tmp/min
else
	echo "triage: minimization did not keep the failure; using the input as it is"
	min=$CRASH
fi

hash=$(sha1sum "$min" | cut -c1-12)
dest=corpus/regressions/$TARGET-${NAME:-$hash}
mkdir -p corpus/regressions
cp "$min" "$dest"
# The replay program's failure block: "input: <path>", the report, "FAIL <path>: <why>".
"$replay" -q "$dest" 2>&1 | grep -vE '^[a-z_]+: [0-9]+ passed, [0-9]+ failed$' >"$tmp/report"
invariant=$(sed -n 's/^invariant: //p' "$tmp/report" | head -n 1)
detail=$(sed -n 's/^detail: //p' "$tmp/report" | head -n 1)
san=$(grep -m1 -oE '(AddressSanitizer|UndefinedBehaviorSanitizer): [^ ]+|runtime error: .*' "$tmp/report")
# Targets without the differential engine's report say what broke on a line of their own.
own=$(grep -v '^input: ' "$tmp/report" | grep -m1 -E '^[a-z_]+: ' | cut -c1-200)
{
	echo "# regression $(basename "$dest"): $(wc -c <"$min") bytes, from $(basename "$CRASH")"
	echo "# failed with ${ORIGIN:-the allocator in $CORE_DIR/}: ${invariant:-${san:-$own}}"
	[ -n "$detail" ] && echo "# $detail"
	case "$TARGET" in
	ops_differential) "$SH_TRACE" text "$dest" | sed '1s/^# /# format: /' ;;
	boot_differential) "$SH_TRACE" text --boot "$dest" | sed '1s/^# /# format: /' ;;
	memmap_parse)
		if $MAKE --no-print-directory -s O="$O" "$O/sh-memmap" >/dev/null 2>&1; then
			"$O/sh-memmap" "$dest" --raw 2>&1 | sed 's/^/# /'
		fi
		od -A x -t x1z -v "$dest" | sed 's/^/# /'
		;;
	*) od -A x -t x1z -v "$dest" | sed 's/^/# /' ;;
	esac
} >"$dest.trace"

echo
echo "---- $dest.trace ----"
cat "$dest.trace"
echo
echo "---- failure report ----"
cat "$tmp/report"
echo
echo "triage summary"
printf '  %-14s %s\n' target "$TARGET" input "$CRASH ($(wc -c <"$CRASH") bytes)" \
	minimized "$(wc -c <"$min") bytes" regression "$dest" trace "$dest.trace" \
	failure "${invariant:-${san:-${own:-see the report above}}}"
echo "Step through it with: $SH_TRACE run $dest.trace"
echo "It now runs in make replay; commit it with: git add $dest $dest.trace"
