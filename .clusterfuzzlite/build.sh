#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build of slotheap's fuzz targets.
#
# Runs in the builder with the source tree as working directory and follows the build
# contract: compile with $CC and $CFLAGS (which carry the sanitizer, $SANITIZER, and the
# engine's instrumentation), link with $CXX $CXXFLAGS and $LIB_FUZZING_ENGINE (libFuzzer,
# AFL++'s driver, or the coverage build's), keep objects in $WORK, and write to $OUT for each
# target:
#   <target>                    the fuzz target
#   <target>_seed_corpus.zip    corpus/<target>/ and corpus/regressions/<target>-* (inputs only)
#   <target>.dict               fuzz/<target>.dict
#   <target>.options            fuzz/<target>.options (libFuzzer flags such as max_len)
# A target is every fuzz/<target>.c that defines LLVMFuzzerTestOneInput (as mk/40-fuzz.mk
# finds them); the other fuzz/*.c files but replay_main.c are shared code linked into each.

echo "slotheap build.sh: SANITIZER=${SANITIZER:-} FUZZING_ENGINE=${FUZZING_ENGINE:-}"
echo "  CC=$CC CXX=$CXX LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE"

targets=$(grep -lE '^int LLVMFuzzerTestOneInput\(.*\)$' fuzz/*.c | xargs -n1 basename | sed 's/\.c$//')
if [ -z "$targets" ]; then
	echo "build.sh: no fuzz targets in fuzz/" >&2
	exit 1
fi
shared=()
for f in fuzz/*.c; do
	t=$(basename "$f" .c)
	[ "$t" = replay_main ] && continue
	case " $(echo $targets) " in *" $t "*) continue ;; esac
	shared+=("$f")
done

obj="$WORK/slotheap-obj"
rm -rf "$obj"
mkdir -p "$obj"
# The project's C dialect; no -Werror here: the builder's clang is newer than the project's
# and may warn about new things (make check holds the code to -Werror with gcc and clang).
flags=(-std=c11 -Icore -Iref -Ifuzz)

compile() { # compile SRC: $obj/<dir>_<name>.o
	local src=$1 o
	o="$obj/$(dirname "$src")_$(basename "$src" .c).o"
	# shellcheck disable=SC2086
	$CC $CFLAGS "${flags[@]}" -c "$src" -o "$o"
	echo "$o"
}

libobjs=()
for src in core/*.c ref/*.c "${shared[@]}"; do
	libobjs+=("$(compile "$src")")
done

for t in $targets; do
	tobj=$(compile "fuzz/$t.c")
	# shellcheck disable=SC2086
	$CXX $CXXFLAGS "$tobj" "${libobjs[@]}" $LIB_FUZZING_ENGINE -o "$OUT/$t"

	seeds="$WORK/seeds-$t"
	rm -rf "$seeds"
	mkdir -p "$seeds"
	[ -d "corpus/$t" ] && cp corpus/"$t"/* "$seeds/"
	for f in corpus/regressions/"$t"-*; do
		[ -f "$f" ] || continue
		case "$f" in *.trace | *.md | *.txt | *.svg) continue ;; esac
		cp "$f" "$seeds/"
	done
	rm -f "$OUT/${t}_seed_corpus.zip"
	(cd "$seeds" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)

	[ -f "fuzz/$t.dict" ] && cp "fuzz/$t.dict" "$OUT/$t.dict"
	if [ -f "fuzz/$t.options" ]; then
		cp "fuzz/$t.options" "$OUT/$t.options"
	else
		printf '[libfuzzer]\n' >"$OUT/$t.options"
	fi
	echo "  $t: $(ls "$seeds" | wc -l) seeds"
done
echo "slotheap build.sh: $(echo $targets | wc -w) targets in $OUT"
