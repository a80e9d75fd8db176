#!/usr/bin/env bash
# make fuzz: a time-boxed differential fuzzing campaign over every fuzz target.
#
#   make fuzz [FUZZ_SECONDS=180] [ENGINE=libfuzzer|afl] [JOBS=1] [TARGETS="a b"] [CORE_DIR=core]
#             [LINEAR=1 (the SH_LINEAR build)]
#
# Installs what it lacks (scripts/install-deps.sh fuzz), builds the targets for the engine,
# then fuzzes each target in turn for its share of FUZZ_SECONDS, with JOBS parallel workers,
# starting from corpus/<target>/ and corpus/regressions/<target>-*. New inputs go to the work
# directory $FUZZ_WORK/<target>/ (under build/, never into git: see make corpus-merge).
# Prints a progress line while it runs and a table at the end. Anything found (crash, leak,
# timeout, out of memory) is minimized and turned into a text trace beside it; the script
# then exits 1 and says where they are (make triage CRASH=... adds one to the regressions).
set -uo pipefail
cd "$(dirname "$0")/.."

. scripts/fuzz-env.sh
FUZZ_SECONDS=${FUZZ_SECONDS:-180}
ENGINE=${ENGINE:-libfuzzer}
JOBS=${JOBS:-1}
SH_TRACE=${SH_TRACE:-$O/sh-trace}
FUZZ_TARGETS=${FUZZ_TARGETS:-}

case "$ENGINE" in
libfuzzer | afl) ;;
*)
	echo "fuzz: ENGINE must be libfuzzer or afl, not '$ENGINE'" >&2
	exit 2
	;;
esac

bash scripts/install-deps.sh base fuzz || exit 1
mkdir -p "$FUZZ_WORK"
if [ -z "$FUZZ_TARGETS" ]; then
	FUZZ_TARGETS=$(grep -lE '^int LLVMFuzzerTestOneInput\(.*\)$' fuzz/*.c | xargs -n1 basename |
		sed 's/\.c$//')
fi
read -r -a targets <<<"$FUZZ_TARGETS"
bins=()
for t in "${targets[@]}"; do
	bins+=("$FUZZ_O/$ENGINE/bin/$t" "$FUZZ_O/replay/bin/$t")
done
echo "fuzz: building $ENGINE targets from $CORE_DIR/$([ "$LINEAR" = 1 ] && echo " with SH_LINEAR=1") (log: $FUZZ_WORK/build.log)"
if ! $MAKE --no-print-directory O="$O" CORE_DIR="$CORE_DIR" LINEAR="$LINEAR" TINY="${TINY:-0}" "${bins[@]}" sh-trace \
	>"$FUZZ_WORK/build.log" 2>&1; then
	tail -n 30 "$FUZZ_WORK/build.log"
	echo "fuzz: build failed" >&2
	exit 1
fi
ntargets=${#targets[@]}
if [ "$ntargets" -eq 0 ]; then
	echo "fuzz: no targets" >&2
	exit 1
fi
per=$((FUZZ_SECONDS / ntargets))
[ "$per" -lt 5 ] && per=5
echo "fuzz: $ntargets target(s), ${per}s each, engine $ENGINE, $JOBS job(s)"

# Options file: libFuzzer flags, one "name = value" per line under [libfuzzer].
lf_options() {
	local f="fuzz/$1.options"
	[ -f "$f" ] || return 0
	sed -n '/^\[libfuzzer\]/,/^\[/{/^[a-z_]* *= */{s/ *= */=/;s/^/-/;p}}' "$f"
}

# The trace form of an input, for targets whose format sh-trace knows.
to_trace() {
	local t=$1 in=$2 out=$3
	case "$t" in
	ops_differential) "$SH_TRACE" text "$in" >"$out" 2>&1 ;;
	boot_differential) "$SH_TRACE" text --boot "$in" >"$out" 2>&1 ;;
	memmap_parse)
		{
			if $MAKE --no-print-directory -s O="$O" "$O/sh-memmap" >/dev/null 2>&1; then
				"$O/sh-memmap" "$in" --raw 2>&1 | sed 's/^/# /'
			fi
			od -A x -t x1z -v "$in" | sed 's/^/# /'
		} >"$out"
		;;
	*) od -A x -t x1z -v "$in" | sed 's/^/# /' >"$out" ;;
	esac
}

# Minimizes one finding and writes <min>, <min>.trace and <min>.report (the failure report).
minimize() {
	local t=$1 crash=$2 bin=$3 min
	min="$(dirname "$crash")/min-$(sha1sum "$crash" | cut -c1-12)"
	if [ "$ENGINE" = afl ]; then
		timeout 120 afl-tmin -m none -i "$crash" -o "$min" -- "$bin" >"$min.log" 2>&1 ||
			cp "$crash" "$min"
	else
		timeout 120 "$bin" -minimize_crash=1 -max_total_time=15 -exact_artifact_path="$min" \
			"$crash" >"$min.log" 2>&1
		[ -f "$min" ] || cp "$crash" "$min"
	fi
	to_trace "$t" "$min" "$min.trace"
	bash -c '"$0" -n "$1"; exit $?' "$FUZZ_O/replay/bin/$t" "$min" >"$min.report" 2>&1
	echo "$min"
}

rows=()
found=()
start_all=$(date +%s)
for t in "${targets[@]}"; do
	bin="$FUZZ_O/$ENGINE/bin/$t"
	work="$FUZZ_WORK/$t"
	mkdir -p "$work/corpus" "$work/crashes" "$work/seeds"
	# Seeds: the committed corpus and the regressions of this target.
	[ -d "corpus/$t" ] && cp -f corpus/"$t"/* "$work/seeds/" 2>/dev/null
	for f in corpus/regressions/"$t"-*; do
		case "$f" in *.trace | *.md | *.txt) continue ;; esac
		[ -f "$f" ] && cp -f "$f" "$work/seeds/"
	done
	[ -n "$(ls -A "$work/seeds")" ] || printf '\0' >"$work/seeds/empty"
	dict=()
	[ -f "fuzz/$t.dict" ] && dict=("fuzz/$t.dict")
	log="$work/fuzz.log"

	if [ "$ENGINE" = libfuzzer ]; then
		before=$(ls "$work/corpus" | wc -l)
		args=(-max_total_time="$per" -print_final_stats=1 -artifact_prefix="$work/crashes/"
			-timeout=10 -rss_limit_mb=2048 $(lf_options "$t"))
		[ ${#dict[@]} -gt 0 ] && args+=(-dict="${dict[0]}")
		[ "$JOBS" -gt 1 ] && args+=(-fork="$JOBS")
		"$bin" "${args[@]}" "$work/corpus" "$work/seeds" >"$log" 2>&1 &
	else
		before=0
		rm -rf "$work/afl"
		afl_args=(-m none -t 10000 -V "$per" -i "$work/seeds" -o "$work/afl")
		[ ${#dict[@]} -gt 0 ] && afl_args+=(-x "${dict[0]}")
		export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
		export AFL_NO_AFFINITY=1
		for ((j = 1; j < JOBS; j++)); do
			afl-fuzz "${afl_args[@]}" -S "s$j" -- "$bin" >"$work/afl-s$j.log" 2>&1 &
		done
		afl-fuzz "${afl_args[@]}" -M main -- "$bin" >"$log" 2>&1 &
	fi
	pid=$!
	t0=$(date +%s)
	last_print=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		el=$(($(date +%s) - t0))
		if [ "$ENGINE" = libfuzzer ]; then
			st=$(grep -aE '^#[0-9]+' "$log" | tail -n 1)
			execs=$(echo "$st" | sed -n 's/^#\([0-9]*\).*/\1/p')
			cov=$(echo "$st" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
			ft=$(echo "$st" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
			corp=$(echo "$st" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
			eps=$(echo "$st" | sed -n 's/.*exec\/s:\{0,1\} \([0-9]*\).*/\1/p')
			line=$(printf '%-18s %3ds/%ds  execs %-9s exec/s %-6s cov %-5s ft %-6s corpus %s' \
				"$t" "$el" "$per" "${execs:--}" "${eps:--}" "${cov:--}" "${ft:--}" "${corp:--}")
		else
			# afl-fuzz rewrites its stats about once a minute, and its first exec/s
			# comes from calibration alone: exec/s here is execs over run time, and
			# the line says how old the figures are.
			sf="$work/afl/main/fuzzer_stats"
			execs=$(sed -n 's/^execs_done *: //p' "$sf" 2>/dev/null)
			run=$(sed -n 's/^run_time *: //p' "$sf" 2>/dev/null)
			upd=$(sed -n 's/^last_update *: //p' "$sf" 2>/dev/null)
			cov=$(sed -n 's/^edges_found *: //p' "$sf" 2>/dev/null)
			corp=$(sed -n 's/^corpus_count *: //p' "$sf" 2>/dev/null)
			eps=
			[ -n "$execs" ] && [ "${run:-0}" -gt 0 ] && eps=$((execs / run))
			age=
			[ -n "$upd" ] && age=" (stats $(($(date +%s) - upd))s old)"
			line=$(printf '%-18s %3ds/%ds  execs %-9s exec/s %-6s edges %-5s corpus %s%s' \
				"$t" "$el" "$per" "${execs:--}" "${eps:--}" "${cov:--}" "${corp:--}" "$age")
		fi
		if [ -t 1 ]; then
			printf '\r%s ' "$line"
		elif [ $((el - last_print)) -ge 10 ]; then
			echo "$line"
			last_print=$el
		fi
	done
	wait "$pid"
	rc=$?
	[ -t 1 ] && echo
	# AFL secondaries stop on their own at -V; make sure none outlives the run.
	wait
	el=$(($(date +%s) - t0))
	[ "$el" -lt 1 ] && el=1

	newfinds=()
	if [ "$ENGINE" = libfuzzer ]; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		[ -z "$execs" ] && execs=$(grep -aE '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/^#\([0-9]*\).*/\1/p')
		execs=${execs:-0}
		st=$(grep -aE '^#[0-9]+' "$log" | tail -n 1)
		cov=$(echo "$st" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
		ft=$(echo "$st" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
		covtxt="edges ${cov:-?} ft ${ft:-?}"
		after=$(ls "$work/corpus" | wc -l)
		for f in "$work"/crashes/*; do
			[ -f "$f" ] || continue
			case "$(basename "$f")" in min-*) continue ;; esac
			[ "$(stat -c %Y "$f")" -ge "$t0" ] && newfinds+=("$f")
		done
		if [ "$rc" -ne 0 ] && [ ${#newfinds[@]} -eq 0 ]; then
			echo "fuzz: $t exited with status $rc and left no input; see $log" >&2
			tail -n 20 "$log" >&2
			found+=("$t: exit status $rc, see $log")
		fi
	else
		execs=0
		after=0
		cov="?"
		for sf in "$work"/afl/*/fuzzer_stats; do
			[ -f "$sf" ] || continue
			e=$(sed -n 's/^execs_done *: //p' "$sf")
			execs=$((execs + ${e:-0}))
			c=$(sed -n 's/^corpus_count *: //p' "$sf")
			after=$((after > ${c:-0} ? after : ${c:-0}))
		done
		before=$(ls "$work/seeds" | wc -l)
		cov=$(sed -n 's/^edges_found *: //p' "$work/afl/main/fuzzer_stats" 2>/dev/null)
		bm=$(sed -n 's/^bitmap_cvg *: //p' "$work/afl/main/fuzzer_stats" 2>/dev/null)
		covtxt="edges ${cov:-?} ($bm)"
		for f in "$work"/afl/*/crashes/id:* "$work"/afl/*/hangs/id:*; do
			[ -f "$f" ] || continue
			cp -p "$f" "$work/crashes/$(basename "$(dirname "$(dirname "$f")")")-$(basename "$f" | tr ':,' '__')"
			newfinds+=("$work/crashes/$(basename "$(dirname "$(dirname "$f")")")-$(basename "$f" | tr ':,' '__')")
		done
	fi
	eps=$((execs / el))
	nmin=0
	for f in "${newfinds[@]}"; do
		# Usually one bug behind them all: minimize the first few, count the rest.
		if [ "$nmin" -ge "${FUZZ_MINIMIZE:-3}" ]; then
			continue
		fi
		nmin=$((nmin + 1))
		echo "fuzz: $t found $(basename "$f") after $(($(stat -c %Y "$f") - t0))s; minimizing"
		min=$(minimize "$t" "$f" "$bin")
		found+=("$t: $min (trace $min.trace, report $min.report)")
		grep -m1 -E '^invariant:|ERROR: (Address|Undefined)Sanitizer|runtime error' "$min.report" |
			sed 's/^/    /'
	done
	if [ ${#newfinds[@]} -gt "$nmin" ]; then
		found+=("$t: $((${#newfinds[@]} - nmin)) more input(s) in $work/crashes/, not minimized")
	fi
	rows+=("$(printf '%-18s %-9s %10s %8s  %-24s %6s -> %-6s %+6d %7d' "$t" "$ENGINE" "$execs" \
		"$eps" "$covtxt" "$before" "$after" $((after - before)) ${#newfinds[@]})")
done

total=$(($(date +%s) - start_all))
echo
echo "fuzz summary ($ENGINE, ${total}s, core from $CORE_DIR/, work dir $FUZZ_WORK)"
printf '%-18s %-9s %10s %8s  %-24s %-23s %7s\n' target engine execs exec/s coverage \
	"corpus (new)" crashes
for r in "${rows[@]}"; do
	echo "$r"
done
if [ ${#found[@]} -gt 0 ]; then
	echo
	echo "fuzz: FOUND ${#found[@]} problem(s):"
	for f in "${found[@]}"; do
		echo "  $f"
	done
	echo "fuzz: read the .trace and .report beside each input; add one to the regression corpus"
	echo "      with: make triage CRASH=<input> TARGET=<target>"
	exit 1
fi
echo "fuzz: nothing found"
