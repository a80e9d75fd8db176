#!/usr/bin/env bash
# make coverage: line, function and branch coverage of the allocator and the model by every
# committed input (and the fuzzing work corpus, if COVERAGE_WORK=1), via clang source-based
# coverage. Summary table on stdout, HTML report in $O/coverage/html/index.html.
set -uo pipefail
cd "$(dirname "$0")/.."

. scripts/fuzz-env.sh
FUZZ_TARGETS=${FUZZ_TARGETS:-$(ls "$FUZZ_O/cov/bin/")}
LLVM_PROFDATA=${LLVM_PROFDATA:-llvm-profdata}
LLVM_COV=${LLVM_COV:-llvm-cov}
out=$O/coverage

rm -rf "$out"
mkdir -p "$out/raw"
objects=()
for t in $FUZZ_TARGETS; do
	inputs=()
	[ -d "corpus/$t" ] && inputs+=("corpus/$t")
	for f in corpus/regressions/"$t"-*; do
		case "$f" in *.trace | *.md) continue ;; esac
		[ -f "$f" ] && inputs+=("$f")
	done
	[ "${COVERAGE_WORK:-0}" = 1 ] && [ -d "$FUZZ_WORK/$t/corpus" ] && inputs+=("$FUZZ_WORK/$t/corpus")
	[ ${#inputs[@]} -eq 0 ] && continue
	LLVM_PROFILE_FILE="$out/raw/$t-%p.profraw" "$FUZZ_O/cov/bin/$t" -q "${inputs[@]}" |
		tail -n 1
	objects+=(-object "$FUZZ_O/cov/bin/$t")
done
"$LLVM_PROFDATA" merge -sparse "$out"/raw/*.profraw -o "$out/all.profdata" || exit 1
srcs=("$CORE_DIR"/*.c ref/*.c)
"$LLVM_COV" show -format=html -output-dir="$out/html" -instr-profile="$out/all.profdata" \
	"${objects[@]:1}" "${srcs[@]}" >/dev/null
echo "coverage of $CORE_DIR/ and ref/ by the committed inputs"
"$LLVM_COV" report -instr-profile="$out/all.profdata" "${objects[@]:1}" "${srcs[@]}" |
	awk '{ if ($1 != "" && $1 !~ /^-+$/) printf "  %-28s %9s %9s %9s %9s\n", $1, $4, $7, $10, $13 }' |
	sed '1s/.*/  file                         regions  functions     lines  branches/'
echo "coverage: HTML report in $out/html/index.html"
