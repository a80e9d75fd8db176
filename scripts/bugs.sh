#!/usr/bin/env bash
# The bug catalog run: applies each fuzz/bugs/*.patch in turn to a copy of core/, rebuilds
# what tests core/ against that copy, and measures what catches the bug.
#
#   scripts/bugs.sh           full run (make bugs): make check's deterministic steps, then each
#                             fuzz target (libFuzzer) from the committed corpus and from an
#                             empty corpus, BUGS_RUNS runs of at most BUGS_SECONDS each; table
#                             and $O/bugs/bugs.csv
#   scripts/bugs.sh --quick   make check's share (check-bugs): the bugs of
#                             fuzz/bugs/check-subset.txt (BUGS=all: every bug), deterministic
#                             steps only; every bug must be caught
#
# Deterministic steps, in this order, each the make check target itself run against the
# patched copy; the first that fails ends the list for that bug: check-replay (the committed
# corpus and regressions through every target), check-replay-linear (the same against the
# SH_LINEAR build), check-unit, check-soak, check-unit-linear, check-memmap (the CLI and the
# 32-bit test, which compiles core/ into itself). BUGS_STEPS replaces the list (make
# bugs-exhaustive: check-exhaustive alone). A bug that no step's binaries can run (every
# step n/a) is listed as n/a, neither caught nor a survivor. A step that already fails on the unpatched copy (work in progress elsewhere)
# is kept, but then catches a bug only with a failure line the unpatched run did not print.
#
# Environment: O (build dir), MAKE, BUGS (numbers or names to run), BUGS_CSV (where the CSV
# goes instead of $O/bugs/bugs.csv or check-bugs.csv), BUGS_SECONDS, BUGS_RUNS,
# BUGS_JOBS (fuzz runs in parallel), BUGS_QUICK_FUZZ (seconds of libFuzzer from the corpus for
# bugs the quick steps miss; 0 = none, so that make check stays deterministic).
#
# How the copy is built: one work copy $O/bugs/work/core is reset to core/ before each patch
# (changed files get a fresh time stamp) and a sub-make runs with O=$O/bugs/work/o,
# CORE_DIR/CORE_SRCS/INCLUDES pointing at it, so only the patched files and what links them
# are rebuilt. A patch that no longer applies (patch -F0: context must match exactly) or no
# longer builds is a FAILURE that says so.
#
# n/a: a step whose binaries define none of the patched file's global functions cannot run
# the patched code. A fuzz target that does not link a patched function but whose SH_LINEAR
# build does (a freeset_linear.c bug) is fuzzed in its SH_LINEAR build. A fuzz target whose committed corpus never executes a function of the
# patched file (coverage build of the unpatched copy, $O/bugs/reach/<target>.txt) is not
# fuzzed against that bug either: e.g. the memory-table parser target and heap.c.
#
# Time to exposure: wall time from starting the fuzzer to its exit on the first failure,
# corpus loading included. The median is over BUGS_RUNS runs with a run that did not expose
# the bug counted as infinite; when the first batch of parallel runs (BUGS_JOBS of them)
# exposes nothing, the remaining runs are skipped and the cell shows "- 0/k"; at least two
# runs are made before giving up (with BUGS_JOBS=1 one miss alone would decide the cell). What caught it:
# the differential engine's "invariant:" line, else the sanitizer's error kind, a libFuzzer
# timeout, the failing unit test, or the memory-table check's mismatch.
set -uo pipefail

quick=0
[ "${1:-}" = --quick ] && quick=1
O=${O:-build}
MAKE=${MAKE:-make}
SECS=${BUGS_SECONDS:-60}
RUNS=${BUGS_RUNS:-3}
JOBS=${BUGS_JOBS:-2}
QFUZZ=${BUGS_QUICK_FUZZ:-0}
ONLY=${BUGS:-}

root=$O/bugs
W=$root/work
logs=$root/logs
mkdir -p "$W" "$logs"
if [ $quick = 1 ]; then csv=$root/check-bugs.csv; else csv=$root/bugs.csv; fi
csv=${BUGS_CSV:-$csv}
t_start=$(date +%s)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

submake() {
	"$MAKE" --no-print-directory -s -j"$JOBS" O="$W/o" CORE_DIR="$W/core" \
		CORE_SRCS="$(ls "$W"/core/*.c | tr '\n' ' ')" INCLUDES="-I$W/core -Iref -Ifuzz" "$@"
}

# Resets the work copy to core/. Files that differ get a fresh time stamp, so make rebuilds
# them; a changed header also drops the objects whose rules do not see $W/core headers.
reset_core() {
	local f b hdr=0
	mkdir -p "$W/core"
	for b in "$W"/core/*; do
		[ -e "$b" ] || continue
		[ -e "core/$(basename "$b")" ] || { rm -f "$b"; }
	done
	for f in core/*; do
		b=$W/core/$(basename "$f")
		if [ ! -e "$b" ] || ! cmp -s "$f" "$b"; then
			cp "$f" "$b"
			case "$f" in *.h) hdr=1 ;; esac
		fi
	done
	[ $hdr = 1 ] && drop_header_objects
	return 0
}

drop_header_objects() {
	rm -rf "$W/o/san" "$W/o/linsan" "$W/o/clang"
}

# One line of the failure output of a log: what caught the bug.
classify() {
	local log=$1 v
	local inv
	inv=$(sed -n 's/^invariant: //p' "$log" | head -n 1)
	case "$inv" in
	"" | *Sanitizer* | *"memory safety"* | *undefined*) ;;
	*) echo "$inv"; return ;;
	esac
	v=$(grep -oE 'ERROR: AddressSanitizer: [A-Za-z-]+' "$log" | head -n 1 | awk '{print $3}')
	[ -n "$v" ] && { echo "ASan $v"; return; }
	v=$(grep -oE 'runtime error: [^,:]*' "$log" | head -n 1 | cut -c16-60)
	[ -n "$v" ] && { echo "UBSan $v"; return; }
	[ -n "$inv" ] && { echo "$inv"; return; }
	grep -q 'ERROR: libFuzzer: timeout' "$log" && { echo "timeout (hang)"; return; }
	grep -q 'ERROR: libFuzzer: out-of-memory' "$log" && { echo "out of memory"; return; }
	v=$(grep -E '^(memmap|boot)[a-z_]*: .*(mismatch|differ|expected|wrong|reason)' "$log" |
		head -n 1 | cut -c1-60)
	[ -n "$v" ] && { echo "$v"; return; }
	v=$(sed -n 's/^\[  FAILED  \] \([A-Za-z0-9_]*\)$/\1/p' "$log" | head -n 1)
	[ -n "$v" ] && { echo "test $v"; return; }
	v=$(grep -E '^check-memmap: .*expected' "$log" | head -n 1 | cut -c15-60)
	[ -n "$v" ] && { echo "memmap answers: $v"; return; }
	grep -q 'ERROR: libFuzzer: deadly signal' "$log" && { echo "signal (abort)"; return; }
	v=$(grep -E '^ *FAIL ' "$log" | head -n 1 | sed -E 's/^ *FAIL corpus\/([^/]*)\/.*: /\1: /')
	[ -n "$v" ] && { echo "$v"; return; }
	echo "failed (see log)"
}

# Global functions defined by each core/*.c, from the unpatched build. A file that defines
# none there (freeset_linear.c) is read from an SH_LINEAR object, keeping only the names no
# other file defines (the free-index interface is defined by both free-index files), so that
# only the SH_LINEAR binaries count as running it.
save_symbols() {
	local f o lin=""
	mkdir -p "$root/syms"
	for f in core/*.c; do
		f=$(basename "$f" .c)
		nm --defined-only -g "$W/o/san/$W/core/$f.o" 2>/dev/null |
			awk '$2 ~ /^[TDR]$/ {print $3}' >"$root/syms/$f.txt"
		[ -s "$root/syms/$f.txt" ] && continue
		for o in "$W/o/linsan/$W/core/$f.o" \
			$(find "$W/o/fuzz" -path '*-linear/*' -name "$f.o" 2>/dev/null | head -n 1); do
			nm --defined-only -g "$o" 2>/dev/null |
				awk '$2 ~ /^[TDR]$/ {print $3}' >"$root/syms/$f.txt"
			[ -s "$root/syms/$f.txt" ] && { lin="$lin $f"; break; }
		done
	done
	for f in $lin; do
		cat "$root"/syms/*.txt | sort | uniq -d >"$root/syms.shared"
		grep -vxF -f "$root/syms.shared" "$root/syms/$f.txt" >"$root/syms/$f.only" || true
		mv "$root/syms/$f.only" "$root/syms/$f.txt"
	done
	rm -f "$root/syms.shared"
}

# Global functions defined by the patched .c files ("*" when a header changed: anything may
# be affected, or when a file defines none).
patched_symbols() {
	local p=$1 f
	for f in $(sed -n 's|^+++ b/core/\([^[:space:]]*\).*|\1|p' "$p"); do
		case "$f" in
		*.c) if [ -s "$root/syms/${f%.c}.txt" ]; then cat "$root/syms/${f%.c}.txt"; else
			echo '*'; fi ;;
		*) echo '*' ;;
		esac
	done | sort -u
}

# Does any of the binaries define one of the symbols in $syms?
links_patch() {
	local b
	grep -qx '\*' <<<"$syms" && return 0
	for b in "$@"; do
		[ -f "$b" ] || continue
		# No grep -q: an early exit would fail nm with SIGPIPE under pipefail.
		nm --defined-only "$b" 2>/dev/null | awk '{print $3}' |
			grep -xF -f <(echo "$syms") >/dev/null && return 0
	done
	return 1
}

# Which core files each fuzz target's committed corpus executes (a function of the file runs
# at least once), from the coverage build of the unpatched copy: $root/reach/<target>.txt.
compute_reach() {
	local covdir llvm profdata cov t f
	covdir=$(step_bins covdir)
	llvm=$(step_bins llvm)
	profdata=$(echo "$llvm" | awk '{print $1}')
	cov=$(echo "$llvm" | awk '{print $2}')
	rm -rf "$root/reach" "$root/cov"
	mkdir -p "$root/reach" "$root/cov"
	[ -n "$profdata" ] && [ -n "$cov" ] || return 0
	for t in $targets; do
		local -a inputs=()
		[ -d "corpus/$t" ] && inputs+=("corpus/$t")
		for f in corpus/regressions/"$t"-*; do
			case "$f" in *.trace | *.md | *.txt | *.svg) continue ;; esac
			[ -f "$f" ] && inputs+=("$f")
		done
		[ ${#inputs[@]} -gt 0 ] && [ -x "$covdir/$t" ] || continue
		mkdir -p "$root/cov/$t"
		LLVM_PROFILE_FILE="$root/cov/$t/%p.profraw" "$covdir/$t" -q "${inputs[@]}" \
			>/dev/null 2>&1
		"$profdata" merge -sparse "$root/cov/$t"/*.profraw -o "$root/cov/$t.profdata" \
			2>/dev/null || continue
		"$cov" export -format=text -instr-profile="$root/cov/$t.profdata" "$covdir/$t" \
			2>/dev/null | python3 -c '
import json, os, sys
seen = set()
for d in json.load(sys.stdin)["data"]:
    for fn in d["functions"]:
        if fn["count"] > 0:
            for f in fn["filenames"]:
                if "/core/" in f or f.startswith("core/"):
                    seen.add(os.path.basename(f))
print("\n".join(sorted(seen)))' >"$root/reach/$t.txt" || rm -f "$root/reach/$t.txt"
	done
}

# Does target $1's corpus execute code of a file that patch $2 changes? (Unknown: yes.)
target_reaches() {
	local t=$1 p=$2 f
	[ -s "$root/reach/$t.txt" ] || return 0
	for f in $(sed -n 's|^+++ b/core/\([^[:space:]]*\).*|\1|p' "$p"); do
		case "$f" in *.h) return 0 ;; esac
		grep -qxF "$f" "$root/reach/$t.txt" && return 0
	done
	return 1
}

# The failure lines of a step's log, addresses blanked, for comparing with the baseline.
signature() {
	grep -E '^\[  FAILED  \] [A-Za-z0-9_]+$|^FAIL |^invariant: |^check-memmap: .*expected|ERROR: (Address|Undefined)Sanitizer|runtime error|^soak: .* [1-9][0-9]* mismatch|^make.*Error' "$1" |
		sed -E 's/0x[0-9a-f]+//g; s/[0-9]+\.[0-9]+ ?s//g; s/\[[0-9:]+\]//g' | sort -u
}

# A step catches the bug when it fails and, if it already failed on the unpatched copy, when
# it reports a failure that the unpatched copy did not.
step_caught() {
	local s=$1 rc=$2 log=$3
	[ "$rc" -ne 0 ] || return 1
	[ -f "$logs/baseline-$s.sig" ] || return 0
	[ -n "$(comm -23 <(signature "$log") "$logs/baseline-$s.sig")" ]
}

step_bins() { sed -n "s|^$1 ||p" "$root/print.txt"; }

lf_options() {
	local f="fuzz/$1.options"
	[ -f "$f" ] || return 0
	sed -n '/^\[libfuzzer\]/,/^\[/{/^[a-z_]* *= */{s/ *= */=/;s/^/-/;p}}' "$f"
}

# One libFuzzer run: fuzz_run TARGET BIN corpus|empty SEED DIR; prints "secs" or "miss".
fuzz_run() {
	local t=$1 bin=$2 kind=$3 seed=$4 d=$5 t0 rc
	local -a seeds=() args
	rm -rf "$d"
	mkdir -p "$d/corpus" "$d/art"
	if [ "$kind" = corpus ]; then
		[ -d "corpus/$t" ] && seeds+=("corpus/$t")
		for f in corpus/regressions/"$t"-*; do
			case "$f" in *.trace | *.md | *.txt | *.svg) continue ;; esac
			[ -f "$f" ] && cp -f "$f" "$d/corpus/"
		done
	fi
	args=(-max_total_time="$SECS" -seed="$seed" -timeout=10 -rss_limit_mb=2048
		-print_final_stats=0 -artifact_prefix="$d/art/" $(lf_options "$t"))
	[ -f "fuzz/$t.dict" ] && args+=(-dict="fuzz/$t.dict")
	t0=$(now)
	timeout $((SECS + 60)) "$bin" "${args[@]}" "$d/corpus" "${seeds[@]}" >"$d/log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && [ -n "$(ls -A "$d/art")" ]; then
		elapsed "$t0"
	else
		echo miss
	fi
}

# Median with misses as infinity; prints "secs" or "".
median() {
	printf '%s\n' "$@" | sed 's/^miss$/inf/' | sort -g | awk '{v[NR] = $1}
		END { m = v[int((NR + 1) / 2)]; if (m != "inf") printf "%.1f", m }'
}

# ---------------------------------------------------------------------------------------------
# check-bugs runs the subset named in fuzz/bugs/check-subset.txt unless BUGS says otherwise
# (BUGS=all: every bug).
if [ $quick = 1 ] && [ -z "$ONLY" ] && [ -f fuzz/bugs/check-subset.txt ]; then
	ONLY=$(sed 's/#.*//' fuzz/bugs/check-subset.txt | tr -s ' \n' ' ')
fi
[ "$ONLY" = all ] && ONLY=""
patches=()
for p in fuzz/bugs/*.patch; do
	n=$(basename "$p" .patch)
	if [ -n "$ONLY" ]; then
		hit=0
		for w in ${ONLY//,/ }; do
			# A number names the bug with that number; other words match names.
			case "$w" in
			[0-9] | [0-9][0-9]) case "$n" in "$(printf '%02d' "$((10#$w))")"-*) hit=1 ;; esac ;;
			*) case "$n" in *"$w"*) hit=1 ;; esac ;;
			esac
		done
		[ $hit = 1 ] || continue
	fi
	patches+=("$p")
done
total=${#patches[@]}
[ "$total" -gt 0 ] || { echo "bugs: no patches selected"; exit 1; }

echo "bugs: $total bug(s), mode $([ $quick = 1 ] && echo "quick (check-bugs)" || echo \
	"full: ${SECS}s x $RUNS runs per target and corpus")"

# The unpatched copy first: every step must pass, or no result would mean anything.
reset_core
steps=${BUGS_STEPS:-"check-replay check-replay-linear check-unit check-soak check-unit-linear check-memmap"}
all_build="$steps"
[ $quick = 0 ] && all_build="$steps fuzz cov"
submake bugs-print >"$root/print.txt" 2>/dev/null
targets=$(step_bins targets)
fuzzdir=$(step_bins fuzzdir)
linfuzzdir=$(step_bins linfuzzdir)
printf 'bugs: baseline (unpatched copy): building ... '
t0=$(now)
if ! submake bugs-build STEPS="$all_build" >"$logs/baseline-build.log" 2>&1; then
	echo "FAILED"
	tail -n 30 "$logs/baseline-build.log"
	echo "bugs: FAILURE: the unpatched core does not build"
	exit 1
fi
printf 'built in %ss; ' "$(elapsed "$t0")"
save_symbols
[ $quick = 0 ] && compute_reach
# make check has just run these steps on core/ itself; the quick run only replays the corpus.
base_steps=$steps
[ $quick = 1 ] && base_steps=$(echo "$steps" | awk '{print $1}')
broken=""
for s in $base_steps; do
	if ! timeout 1200 "$MAKE" --no-print-directory -s O="$W/o" CORE_DIR="$W/core" \
		CORE_SRCS="$(ls "$W"/core/*.c | tr '\n' ' ')" INCLUDES="-I$W/core -Iref -Ifuzz" \
		"$s" >"$logs/baseline-$s.log" 2>&1; then
		broken="$broken $s"
	fi
done
if [ -n "$broken" ]; then
	echo "FAILED:$broken"
	for s in $broken; do
		echo "bugs: WARNING: $s fails on the unpatched core (log $logs/baseline-$s.log);" \
			"with a patch it counts only failures the unpatched core does not have:"
		signature "$logs/baseline-$s.log" | tee "$logs/baseline-$s.sig" | head -n 5 |
			sed 's/^/      /'
	done
else
	echo "$(echo $base_steps | wc -w) step(s) pass"
fi
for s in $steps; do
	case " $broken " in *" $s "*) ;; *) rm -f "$logs/baseline-$s.sig" ;; esac
done

hdr="bug,description,applies,builds"
for s in $steps; do hdr="$hdr,${s#check-}"; done
hdr="$hdr,check_caught,check_what"
if [ $quick = 0 ]; then
	for t in $targets; do
		hdr="$hdr,${t}_corpus_runs,${t}_corpus_median_s,${t}_empty_runs,${t}_empty_median_s,${t}_what"
	done
fi
hdr="$hdr,caught,caught_by,seconds"
echo "$hdr" >"$csv"

failures=0
build_errors=0
n_check=0
n_corpus=0
n_empty=0
best_corpus=()
survivors=()
not_run=()
rows=()
i=0
for p in "${patches[@]}"; do
	i=$((i + 1))
	n=$(basename "$p" .patch)
	desc=$(sed -n 's/^Bug: //p' "$p" | head -n 1)
	tb=$(now)
	printf '[%2d/%d] %s\n' "$i" "$total" "$n"
	reset_core
	row_det=()
	declare -A cell=()
	what=""
	check_caught=no
	check_what=""
	if ! (cd "$W" && patch -p1 -s -F0 --dry-run --no-backup-if-mismatch) <"$p" \
		>"$logs/$n.apply.log" 2>&1; then
		echo "        FAILURE: $p no longer applies to core/ (update the patch):"
		sed 's/^/          /' "$logs/$n.apply.log" | head -n 5
		failures=$((failures + 1))
		echo "\"$n\",\"$desc\",no,,,,,,,no,,no,patch no longer applies,0" >>"$csv"
		rows+=("$(printf '%-36s %s' "$n" "FAILURE: patch no longer applies")")
		continue
	fi
	(cd "$W" && patch -p1 -s -F0 --no-backup-if-mismatch) <"$p" >/dev/null 2>&1
	if grep -q '^+++ b/core/.*\.h' "$p"; then drop_header_objects; fi

	if [ $quick = 1 ]; then build=$(echo "$steps" | awk '{print $1}'); else build=$all_build; fi
	if ! submake bugs-build STEPS="$build" >"$logs/$n.build.log" 2>&1; then
		echo "        FAILURE: does not build with the patch applied (log $logs/$n.build.log)"
		failures=$((failures + 1))
		echo "\"$n\",\"$desc\",yes,no,,,,,,no,,no,does not build,0" >>"$csv"
		rows+=("$(printf '%-36s %s' "$n" "FAILURE: does not build")")
		continue
	fi
	syms=$(patched_symbols "$p")

	# Deterministic steps of make check.
	for s in $steps; do
		if [ "$check_caught" = yes ]; then
			cell[$s]="-"
			continue
		fi
		if [ $quick = 1 ] && [ "$s" != "$build" ]; then
			submake bugs-build STEPS="$s" >>"$logs/$n.build.log" 2>&1 || true
		fi
		# shellcheck disable=SC2046
		if ! links_patch $(step_bins "$s"); then
			cell[$s]="n/a"
			continue
		fi
		ts=$(now)
		timeout 1200 "$MAKE" --no-print-directory -s O="$W/o" CORE_DIR="$W/core" \
			CORE_SRCS="$(ls "$W"/core/*.c | tr '\n' ' ')" INCLUDES="-I$W/core -Iref -Ifuzz" \
			"$s" >"$logs/$n.$s.log" 2>&1
		rc=$?
		if [ $rc -ne 0 ] && grep -qE '^[^ :]+\.[ch]:[0-9]+:[0-9]+: (fatal )?error:|undefined reference to' \
			"$logs/$n.$s.log"; then
			# The step did not build (e.g. sources changed under a running make bugs): no
			# verdict, and the bug goes on to the next step.
			cell[$s]="err"
			build_errors=$((build_errors + 1))
			printf '        %-18s BUILD ERROR (log %s): no verdict\n' "$s" "$logs/$n.$s.log"
		elif step_caught "$s" $rc "$logs/$n.$s.log"; then
			cell[$s]="yes"
			c=$(classify "$logs/$n.$s.log")
			[ "$check_caught" = no ] && check_what="${s#check-}: $c"
			check_caught=yes
			printf '        %-18s caught   %5ss  %s\n' "$s" "$(elapsed "$ts")" "$c"
		else
			cell[$s]="no"
			printf '        %-18s missed   %5ss\n' "$s" "$(elapsed "$ts")"
		fi
	done
	what=$check_what

	# Fuzzing.
	fuzz_cells=""
	fuzz_any=no
	fuzz_empty=no
	fuzz_what=""
	best=""
	if [ $quick = 1 ] && [ "$check_caught" = no ] && [ "$QFUZZ" -gt 0 ]; then
		submake bugs-build STEPS=fuzz >>"$logs/$n.build.log" 2>&1 || true
		for t in $targets; do
			bin=$fuzzdir/$t
			links_patch "$bin" || continue
			SECS_SAVE=$SECS
			SECS=$QFUZZ
			r=$(fuzz_run "$t" "$bin" corpus 1 "$root/runs/$n/$t-quick")
			SECS=$SECS_SAVE
			if [ "$r" != miss ]; then
				check_caught=yes
				what="$t fuzz ${r}s: $(classify "$root/runs/$n/$t-quick/log")"
				printf '        %-18s caught   %5ss  %s\n' "fuzz $t" "$r" "$what"
				break
			fi
		done
	fi
	if [ $quick = 0 ]; then
		for t in $targets; do
			bin=$fuzzdir/$t
			reach=yes
			if links_patch "$bin"; then
				target_reaches "$t" "$p" || reach=no
			else
				# Only the SH_LINEAR build has the patched code (freeset_linear.c), which
				# the default build's reach table cannot show: a target that runs heap.c
				# (the free index's only caller) runs it.
				bin=$linfuzzdir/$t
				[ ! -s "$root/reach/$t.txt" ] || grep -qxF heap.c "$root/reach/$t.txt" ||
					reach=no
			fi
			if ! links_patch "$bin" || [ $reach = no ]; then
				fuzz_cells="$fuzz_cells,n/a,,n/a,,"
				cell[$t.corpus]="n/a"
				cell[$t.empty]="n/a"
				continue
			fi
			twhat=""
			for kind in corpus empty; do
				times=()
				seed=1
				while [ $seed -le "$RUNS" ]; do
					batch=()
					for ((j = 0; j < JOBS && seed <= RUNS; j++, seed++)); do
						fuzz_run "$t" "$bin" "$kind" "$seed" \
							"$root/runs/$n/$t-$kind-$seed" >"$root/runs.$seed.res" &
						batch+=($seed)
					done
					wait
					hit=0
					for s2 in "${batch[@]}"; do
						r=$(cat "$root/runs.$s2.res")
						times+=("$r")
						if [ "$r" != miss ]; then
							hit=1
							[ -z "$twhat" ] &&
								twhat=$(classify "$root/runs/$n/$t-$kind-$s2/log")
						fi
					done
					rm -f "$root"/runs.*.res
					[ $hit = 0 ] && [ ${#times[@]} -ge 2 ] && break
				done
				caught_n=0
				for r in "${times[@]}"; do [ "$r" != miss ] && caught_n=$((caught_n + 1)); done
				med=$(median "${times[@]}")
				if [ -n "$med" ]; then
					cell[$t.$kind]="${med}s ${caught_n}/${#times[@]}"
				elif [ $caught_n -gt 0 ]; then
					cell[$t.$kind]=">${SECS}s ${caught_n}/${#times[@]}"
				else
					cell[$t.$kind]="- 0/${#times[@]}"
				fi
				[ "$kind" = corpus ] && [ $caught_n -gt 0 ] && fuzz_any=yes
				[ "$kind" = empty ] && [ $caught_n -gt 0 ] && fuzz_empty=yes
				if [ "$kind" = corpus ] && [ -n "$med" ]; then
					if [ -z "$best" ] || awk -v a="$med" -v b="$best" 'BEGIN { exit !(a < b) }'
					then best=$med; fi
				fi
				fuzz_cells="$fuzz_cells,${caught_n}/${#times[@]},$med"
				printf '        %-18s %-7s %s\n' "$t" "$kind" "${cell[$t.$kind]}"
			done
			fuzz_cells="$fuzz_cells,\"$twhat\""
			[ -n "$twhat" ] && [ -z "$fuzz_what" ] && fuzz_what="$t: $twhat"
		done
	fi
	# In the full run the fuzzers' verdict is the headline; the check steps' comes first
	# only when no fuzz target caught the bug.
	[ -n "$fuzz_what" ] && what=$fuzz_what
	[ "$check_caught" = yes ] && n_check=$((n_check + 1))
	[ "$fuzz_any" = yes ] && n_corpus=$((n_corpus + 1))
	[ "$fuzz_empty" = yes ] && n_empty=$((n_empty + 1))
	na_all=yes
	for s in $steps; do [ "${cell[$s]}" = "n/a" ] || na_all=no; done
	[ $quick = 0 ] && [ "$fuzz_any" = yes ] && na_all=no
	[ -n "$best" ] && best_corpus+=("$best")
	caught=no
	{ [ "$check_caught" = yes ] || [ "$fuzz_any" = yes ]; } && caught=yes
	secs=$(elapsed "$tb")
	line="\"$n\",\"$desc\",yes,yes"
	for s in $steps; do line="$line,${cell[$s]}"; done
	line="$line,$check_caught,\"$check_what\""
	[ $quick = 0 ] && line="$line$fuzz_cells"
	echo "$line,$caught,\"$what\",$secs" >>"$csv"
	if [ $quick = 1 ]; then
		if [ "$na_all" = yes ]; then
			not_run+=("$n")
			what="n/a: no step runs the patched code"
			check_caught=n/a
		elif [ "$check_caught" = no ]; then
			survivors+=("$n")
			echo "        SURVIVED: no deterministic step catches it"
		fi
		rows+=("$(printf '%-36s %-8s %s' "$n" "$check_caught" "$what")")
	else
		[ "$caught" = no ] && survivors+=("$n")
		r=$(printf '%-36s' "$n")
		for s in $steps; do r="$r $(printf '%-5s' "${cell[$s]}")"; done
		for t in $targets; do
			r="$r | $(printf '%-12s %-12s' "${cell[$t.corpus]}" "${cell[$t.empty]}")"
		done
		rows+=("$r | $what")
	fi
	unset cell
done

echo
if [ $quick = 1 ]; then
	echo "check-bugs summary"
	printf '%-36s %-8s %s\n' bug caught "caught by (first step)"
else
	echo "bugs summary (fuzz cells: median time to exposure over $RUNS runs, runs that caught it)"
	h=$(printf '%-36s' bug)
	for s in $steps; do h="$h $(printf '%-5s' "$(echo "${s#check-}" | cut -c1-5)")"; done
	for t in $targets; do h="$h | $(printf '%-25s' "$t corpus/empty")"; done
	echo "$h | caught by"
fi
printf '%s\n' "${rows[@]}"
echo
caught_total=$((total - failures - ${#survivors[@]} - ${#not_run[@]}))
if [ $quick = 0 ]; then
	fast=0
	for b in "${best_corpus[@]}"; do
		awk -v a="$b" 'BEGIN { exit !(a < 5) }' && fast=$((fast + 1))
	done
	echo "bugs: caught by make check's deterministic steps: $n_check of $total"
	echo "bugs: caught by fuzzing from the committed corpus (some target, at least one run" \
		"within ${SECS}s): $n_corpus of $total; from an empty corpus: $n_empty of $total"
	if [ ${#best_corpus[@]} -gt 0 ]; then
		echo "bugs: time to exposure from the corpus (fastest target's median): median" \
			"$(median "${best_corpus[@]}")s over ${#best_corpus[@]} bugs, $fast under 5s"
	fi
fi
echo "bugs: $caught_total of $total caught, ${#survivors[@]} survived, $failures failure(s) to" \
	"apply or build; $(($(date +%s) - t_start))s; CSV: $csv"
[ ${#not_run[@]} -gt 0 ] && echo "bugs: ${#not_run[@]} n/a (no step runs the patched code): ${not_run[*]}"
for s in "${survivors[@]}"; do echo "bugs: SURVIVED $s"; done
if [ $quick = 1 ]; then
	echo "check-bugs: $caught_total passed, $((failures + ${#survivors[@]})) failed"
fi
for s in $broken; do echo "bugs: WARNING: $s fails on the unpatched core (see above)"; done
[ $build_errors -gt 0 ] && echo "bugs: WARNING: $build_errors step run(s) did not build (err)"
[ $failures -eq 0 ] && [ ${#survivors[@]} -eq 0 ]
