#!/usr/bin/env bash
# Runs every allocator benchmark and writes, under $BENCH_OUT (build/bench):
#   results.csv   every figure, one per line: workload,allocator,metric,value
#   results.md    the tables (speed, instructions, latency, memory, churn, goals, fuzzing)
#   growth.dat    ns per call against live blocks; growth.svg, its plot
#
# Normally started by `make bench` (which builds the driver and installs the packages).
#   BENCH_QUICK=1    about 1 minute instead of about 10
#   BENCH_SEED=N     seed of every workload (default 1)
#   BENCH_REPS=N     repetitions of each timed run (default 7, quick 3)
#   BENCH_CALLGRIND=0  skip the instruction counts
set -euo pipefail
cd "$(dirname "$0")/.."

O=${O:-build}
BIN=${BENCH_BIN:-$O/bench/bench}
OUT=${BENCH_OUT:-$O/bench}
QUICK=${BENCH_QUICK:-}
SEED=${BENCH_SEED:-1}
REPS=${BENCH_REPS:-}
CALLGRIND=${BENCH_CALLGRIND:-1}
[ "$QUICK" = 0 ] && QUICK=

if [ ! -x "$BIN" ]; then
	echo "bench: no driver at $BIN: run 'make bench' (or 'make bench-build')" >&2
	exit 2
fi
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

csv=$OUT/results.csv
start=$(date +%s)
allocs=$("$BIN" list | sed -n 's/^allocators: //p')
speed_workloads="rand-small rand-large lifo fifo realloc memalign"

# The command that reproduces this run, as the summary prints it.
repro="make bench"
[ -n "$QUICK" ] && repro="$repro BENCH_QUICK=1"
[ "$SEED" != 1 ] && repro="$repro BENCH_SEED=$SEED"
[ -n "$REPS" ] && repro="$repro BENCH_REPS=$REPS"
[ "$CALLGRIND" = 0 ] && repro="$repro BENCH_CALLGRIND=0"
[ "${BENCH_FUZZ:-1}" = 0 ] && repro="$repro BENCH_FUZZ=0"

elapsed() {
	echo "$(($(date +%s) - start)) s"
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
machine="${cpu:-$(uname -m)}, $(nproc) cores, Linux $(uname -r), ${BENCH_CC:-gcc} $(${BENCH_CC:-gcc} -dumpfullversion 2>/dev/null)"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "bench: $machine"
echo "bench: commit $commit, seed $SEED${QUICK:+, quick}; allocators: $allocs"

# 1. Everything timed, in one process so that all allocators share the machine's noise.
echo "[1/5] speed, latency at 100,000 live blocks, growth, churn, fragmentation"
run_args=(run --seed "$SEED" --csv "$tmp/run.csv" --growth "$OUT/growth.dat")
[ -n "$QUICK" ] && run_args+=(--quick)
[ -n "$REPS" ] && run_args+=(--reps "$REPS")
"$BIN" "${run_args[@]}"
cp "$tmp/run.csv" "$csv"
echo "      done ($(elapsed))"

# 2. Peak memory: a fresh process per allocator, every block fully written.
echo "[2/5] peak memory (fresh process per allocator and workload)"
peak_steps=20000
[ -n "$QUICK" ] && peak_steps=5000
for w in rand-small rand-large; do
	for a in $allocs; do
		if "$BIN" one "$a" "$w" "$peak_steps" --seed "$SEED" --peak >"$tmp/peak" 2>"$tmp/peak.err"; then
			rss=$(sed -n 's/^peak_rss_bytes=//p' "$tmp/peak")
			req=$(sed -n 's/^peak_req_bytes=//p' "$tmp/peak")
			blocks=$(sed -n 's/^peak_live_blocks=//p' "$tmp/peak")
			echo "$w,$a,peak_rss_bytes,$rss" >>"$csv"
			echo "$w,$a,peak_req_bytes,$req" >>"$csv"
			echo "$w,$a,peak_live_blocks,$blocks" >>"$csv"
			awk -v w="$w" -v a="$a" -v r="$rss" -v q="$req" 'BEGIN {
				printf "      %-10s %-16s peak RSS %6.1f MiB for %6.1f MiB requested\n",
					w, a, r / 1048576, q / 1048576 }'
		else
			echo "$w,$a,peak_rss_bytes,n/a" >>"$csv"
			echo "      $w $a: failed: $(head -c 200 "$tmp/peak.err")"
		fi
	done
done

# 3. Instructions per call under callgrind: each run once with N steps and once with none,
# collecting only inside the benchop_* wrappers; the difference divided by the timed calls
# is the cost of one allocator call, set-up and warm-up excluded. Two runs at a time.
echo "[3/5] instructions per call (callgrind)"
cg_steps=5000
cg_workloads=$speed_workloads
if [ -n "$QUICK" ]; then
	cg_steps=1000
	cg_workloads="rand-small rand-large"
fi
cg_one() { # workload allocator steps tag
	local f="$tmp/cg.$1.$2.$4"
	if valgrind --tool=callgrind --callgrind-out-file="$f.out" --toggle-collect='benchop_*' \
		"$BIN" one "$2" "$1" "$3" --seed "$SEED" >"$f.stdout" 2>"$f.log"; then
		sed -n 's/^totals: *//p; s/^summary: *//p' "$f.out" | head -n 1 | awk '{print $1}' >"$f.ir"
	else
		echo fail >"$f.ir"
	fi
}
cg_result() { # workload allocator: appends the figure and prints it
	local base="$tmp/cg.$1.$2" ir_n ir_0 calls ipc
	ir_n=$(cat "$base.n.ir" 2>/dev/null || echo fail)
	ir_0=$(cat "$base.0.ir" 2>/dev/null || echo fail)
	calls=$(sed -n 's/^calls=//p' "$base.n.stdout" 2>/dev/null)
	if [ "$ir_n" = fail ] || [ "$ir_0" = fail ] || [ -z "$calls" ] || [ "$calls" = 0 ]; then
		echo "$1,$2,instr_per_call,n/a" >>"$csv"
		echo "      $1 $2: callgrind failed (log: $base.n.log)"
		return
	fi
	ipc=$(awk -v a="$ir_n" -v b="$ir_0" -v c="$calls" 'BEGIN {printf "%.1f", (a - b) / c}')
	echo "$1,$2,instr_per_call,$ipc" >>"$csv"
	printf '      %-10s %-16s %10s instructions per call (%s calls)\n' "$1" "$2" "$ipc" "$calls"
}
if [ "$CALLGRIND" = 0 ] || ! command -v valgrind >/dev/null; then
	echo "      skipped (BENCH_CALLGRIND=0 or no valgrind)"
else
	pairs=()
	for w in $cg_workloads; do
		steps=$cg_steps
		case $w in
		lifo | fifo) steps=1 ;;     # one batch of 100,000 blocks
		memalign) steps=$((cg_steps / 5)) ;; # slow calls: fewer suffice
		esac
		for a in $allocs; do
			pairs+=("$w $a")
			printf '\r      running %-10s %-16s' "$w" "$a"
			cg_one "$w" "$a" "$steps" n &
			[ "$(jobs -rp | wc -l)" -ge 2 ] && wait -n
			cg_one "$w" "$a" 0 0 &
			[ "$(jobs -rp | wc -l)" -ge 2 ] && wait -n
		done
	done
	wait
	printf '\r%60s\r' ''
	for p in "${pairs[@]}"; do
		# shellcheck disable=SC2086
		cg_result $p
	done
fi
echo "      done ($(elapsed))"

# 4. Fuzzing throughput: each libFuzzer target for a few seconds, if `make fuzz` built them.
echo "[4/5] fuzzing throughput"
fuzz_dir=${BENCH_FUZZ_DIR:-$O/fuzz/core/libfuzzer/bin}
fuzz_secs=5
[ -n "$QUICK" ] && fuzz_secs=2
found=0
for t in ${BENCH_FUZZ_TARGETS:-ops_differential memmap_parse boot_differential}; do
	bin=$fuzz_dir/$t
	if [ "${BENCH_FUZZ:-1}" = 0 ]; then
		echo "fuzz,$t,exec_per_sec,n/a" >>"$csv"
		echo "      $t: skipped (BENCH_FUZZ=0)"
		continue
	fi
	if [ ! -x "$bin" ] || [ ! -f "$bin" ]; then
		echo "fuzz,$t,exec_per_sec,n/a" >>"$csv"
		echo "      $t: no libFuzzer binary $bin (make fuzz-build-libfuzzer): skipped"
		continue
	fi
	found=1
	mkdir -p "$tmp/corpus-$t"
	seeds=()
	[ -d "corpus/$t" ] && seeds=("corpus/$t")
	# New inputs go to a scratch directory; the repository's corpus is only read.
	"$bin" -max_total_time="$fuzz_secs" -print_final_stats=1 -artifact_prefix="$tmp/" \
		"$tmp/corpus-$t" "${seeds[@]}" >"$tmp/fuzz-$t.log" 2>&1 || true
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/fuzz-$t.log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz-$t.log" | tail -n 1)
	echo "fuzz,$t,exec_per_sec,${eps:-n/a}" >>"$csv"
	echo "fuzz,$t,executions,${execs:-n/a}" >>"$csv"
	echo "      $t: ${eps:-?} exec/s (${execs:-?} runs in $fuzz_secs s)"
done
[ "$found" = 0 ] && echo "      no fuzz targets found: figures left out"

# 5. Tables and plot.
echo "[5/5] report"
if bash scripts/plot "$OUT/growth.dat" "$OUT/growth.svg"; then
	echo "      plot: $OUT/growth.svg"
else
	echo "      plot: not drawn (gnuplot missing?)"
fi
awk -F, -v machine="$machine" -v commit="$commit" -v repro="$repro" \
	-v date="$(date -u '+%Y-%m-%d %H:%M UTC')" -v allocs="$allocs" \
	-f scripts/bench-report.awk "$csv" >"$OUT/results.md"
echo "      tables: $OUT/results.md, figures: $csv ($(elapsed))"
echo
sed -n '/^## Summary/,/^## Speed/p' "$OUT/results.md" | sed '$d'
echo "Reproduce with: $repro"
