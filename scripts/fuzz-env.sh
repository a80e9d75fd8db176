# Sourced by the fuzzing scripts: the build and work directories for the allocator sources
# in CORE_DIR, laid out as mk/40-fuzz.mk lays them out. Runs from the repository root.
O=${O:-build}
CORE_DIR=${CORE_DIR:-core}
LINEAR=${LINEAR:-0}
tag=$(echo "${CORE_DIR%/}" | tr / _)
[ "$LINEAR" = 1 ] && tag=$tag-linear
FUZZ_O=${FUZZ_O:-$O/fuzz/$tag}
FUZZ_WORK=${FUZZ_WORK:-$O/fuzz-work/$tag}
MAKE=${MAKE:-make}
