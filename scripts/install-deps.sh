#!/usr/bin/env bash
# Install what a slotheap build needs, by group. Make targets call this only when a tool or
# library is missing. As root it uses apt-get; otherwise it prints the exact command to run.
#
#   scripts/install-deps.sh base    compilers and cmocka (make check)
#   scripts/install-deps.sh fuzz    clang + libFuzzer runtime, AFL++ (make fuzz)
#   scripts/install-deps.sh bench   jemalloc, mimalloc, valgrind, gnuplot (make bench)
#   scripts/install-deps.sh lint    clang-tidy, cppcheck, scan-build (make lint)
#   scripts/install-deps.sh all     everything
set -euo pipefail

pkgs_base="build-essential gcc-multilib clang libclang-rt-dev clang-format libcmocka-dev"
pkgs_fuzz="clang libclang-rt-dev afl++"
pkgs_bench="libjemalloc-dev libmimalloc-dev valgrind gnuplot-nox"
pkgs_lint="clang-tidy cppcheck clang-tools"

want=""
for group in "${@:-base}"; do
	case "$group" in
	base) want="$want $pkgs_base" ;;
	fuzz) want="$want $pkgs_fuzz" ;;
	bench) want="$want $pkgs_bench" ;;
	lint) want="$want $pkgs_lint" ;;
	all) want="$want $pkgs_base $pkgs_fuzz $pkgs_bench $pkgs_lint" ;;
	*)
		echo "install-deps: unknown group '$group' (base, fuzz, bench, lint, all)" >&2
		exit 2
		;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root:  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Another install may hold the package lock (parallel make): wait for it rather than fail.
# A stale package list is the usual reason an install fails on a fresh machine.
apt-get -o DPkg::Lock::Timeout=900 update -qq >/dev/null 2>&1 || apt-get -o DPkg::Lock::Timeout=900 update
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
