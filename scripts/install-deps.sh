#!/usr/bin/env bash
# Install what a slotheap build needs, by group. Make targets call this only when a tool or
# library is missing. As root it uses apt-get; otherwise it prints the exact command to run.
#
#   scripts/install-deps.sh base    compilers and cmocka (make check)
#   scripts/install-deps.sh fuzz    clang + libFuzzer runtime, AFL++ (make fuzz)
#   scripts/install-deps.sh bench   jemalloc, mimalloc, valgrind, gnuplot (make bench)
#   scripts/install-deps.sh preload the programs check-preload runs on slotheap (python3, sort,
#                                   gcc, sqlite3, xz)
#   scripts/install-deps.sh boot    QEMU (x86), GRUB for BIOS, xorriso, mtools, pkg-config
#                                   (make boot, make check-install)
#   scripts/install-deps.sh lint    clang-tidy, cppcheck, scan-build (make lint)
#   scripts/install-deps.sh ci      git, npm (workflow schema check), zip (ClusterFuzzLite test)
#   scripts/install-deps.sh arm     arm-none-eabi-gcc and qemu-system-arm (make check-arm)
#   scripts/install-deps.sh cross   arm, plus 32-bit cmocka (i386), s390x libraries for clang
#                                   and qemu-user (make cross)
#   scripts/install-deps.sh all     everything
set -euo pipefail

pkgs_base="build-essential gcc-multilib clang libclang-rt-dev clang-format libcmocka-dev"
pkgs_fuzz="clang libclang-rt-dev afl++"
pkgs_bench="libjemalloc-dev libmimalloc-dev valgrind gnuplot-nox"
pkgs_preload="python3 coreutils gcc sqlite3 xz-utils"
pkgs_boot="qemu-system-x86 grub-pc-bin grub-common xorriso mtools pkg-config"
pkgs_lint="clang-tidy cppcheck clang-tools"
pkgs_ci="git ca-certificates python3 zip unzip"
# npm may come with a nodejs from elsewhere (NodeSource's includes it): Debian's only if absent.
command -v npm >/dev/null 2>&1 || pkgs_ci="$pkgs_ci nodejs npm"
# Big-endian runs use clang --target=s390x-linux-gnu with Debian's s390x cross libraries:
# gcc-s390x-linux-gnu itself conflicts with gcc-multilib, which the 32-bit build needs.
pkgs_arm="gcc-arm-none-eabi binutils-arm-none-eabi qemu-system-arm"
pkgs_cross="$pkgs_arm gcc-multilib libcmocka-dev:i386 clang libc6-dev-s390x-cross
	libgcc-12-dev-s390x-cross binutils-s390x-linux-gnu qemu-user"

want=""
for group in "${@:-base}"; do
	case "$group" in
	base) want="$want $pkgs_base" ;;
	fuzz) want="$want $pkgs_fuzz" ;;
	bench) want="$want $pkgs_bench" ;;
	preload) want="$want $pkgs_preload" ;;
	boot) want="$want $pkgs_boot" ;;
	lint) want="$want $pkgs_lint" ;;
	ci) want="$want $pkgs_ci" ;;
	arm) want="$want $pkgs_arm" ;;
	cross) want="$want $pkgs_cross" ;;
	all)
		want="$want $pkgs_base $pkgs_fuzz $pkgs_bench $pkgs_preload $pkgs_boot $pkgs_lint"
		want="$want $pkgs_ci $pkgs_cross"
		;;
	*)
		echo "install-deps: unknown group '$group' (base, fuzz, bench, preload, boot, lint, ci, arm, cross, all)" >&2
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
# Packages of another architecture (libcmocka-dev:i386) need it enabled before the update.
for arch in $(printf '%s\n' $missing | sed -n 's/.*:\([a-z0-9]*\)$/\1/p' | sort -u); do
	dpkg --print-foreign-architectures | grep -qx "$arch" || dpkg --add-architecture "$arch"
done
# Another install may hold the package lock (parallel make): wait for it rather than fail.
# A stale package list is the usual reason an install fails on a fresh machine.
apt-get -o DPkg::Lock::Timeout=900 update -qq >/dev/null 2>&1 || apt-get -o DPkg::Lock::Timeout=900 update
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
