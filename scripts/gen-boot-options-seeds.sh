#!/usr/bin/env bash
# Writes the boot_differential seeds for run-time boot options: corpus/boot_differential/
# seed-opts-<name>, each the fuzz input bytes of a boot trace (fuzz/bootdecode.h) whose
# "options" line covers one case of sh_boot_options: each option and number form, the
# separators, malformed and overflowing values, values the placement or the region refuses,
# and the built-in defaults. The traces below are the source of truth; every seed must run
# clean (sh-trace run), so a seed that stops passing is reported here.
#
#   make sh-trace && SH_TRACE=build/sh-trace scripts/gen-boot-options-seeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sh_trace=${SH_TRACE:-build/sh-trace}
out=corpus/boot_differential
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# QEMU's e820 map (the qemu-e820 seed): RAM up to 0x7ffdf000 below 4 GiB.
table='table 00 00 00 00 00 00 00 00 00 fc 09 00 00 00 00 00 01 00 00 00 00 fc 09 00 00 00 00 00 00 04 00 00
table 00 00 00 00 02 00 00 00 00 00 0f 00 00 00 00 00 00 00 01 00 00 00 00 00 02 00 00 00 00 00 10 00
table 00 00 00 00 00 f0 ed 7f 00 00 00 00 01 00 00 00 00 f0 fd 7f 00 00 00 00 00 10 02 00 00 00 00 00
table 02 00 00 00 00 00 00 b0 00 00 00 00 00 00 00 10 00 00 00 00 02 00 00 00 00 c0 d1 fe 00 00 00 00
table 00 40 00 00 00 00 00 00 02 00 00 00 00 00 fc ff 00 00 00 00 00 00 04 00 00 00 00 00 02 00 00 00
table 00 00 00 00 01 00 00 00 00 00 00 80 00 00 00 00 01 00 00 00'
ops='malloc 100
malloc 5000
memalign 4096 100
calloc 10 10
realloc #0 20000
free #1
malloc 0'
plain='boot format=e820 heap=65536 slots=64 limit=4G static=0 static_slots=0 excl=0x0+0x0'
static='boot format=e820 heap=65536 slots=64 limit=4G static=16384 static_slots=0 excl=0x0+0x0'

rm -f "$out"/seed-opts-*
n=0
# seed NAME BOOT-LINE OPTIONS-LINE: one trace, its bytes, and a clean run.
seed() {
	local name=$1 t="$tmp/$1.trace"
	printf '# boot options seed %s\n%s\n%s\n%s\n%s\n' "$name" "$2" "$table" "$3" "$ops" >"$t"
	"$sh_trace" bytes "$t" "$out/seed-opts-$name"
	if ! "$sh_trace" run -q "$out/seed-opts-$name" >"$tmp/run.log" 2>&1; then
		cat "$tmp/run.log" >&2
		echo "gen-boot-options-seeds: seed $name fails" >&2
		exit 1
	fi
	n=$((n + 1))
}

# Each option and each number form, as the last option of its kind.
seed size-k "$plain" 'options "slotheap.size=256K"'
seed size-lower-k "$plain" 'options "slotheap.size=64k"'
seed size-hex-m "$plain" 'options "console=ttyS0 slotheap.size=0x1M quiet"'
seed size-hex-digits "$plain" 'options "slotheap.size=0xAbC0"'
seed size-hex-letters "$static" 'options "slotheap.size=0x1AbCdEf"'
seed slots-hex-letters "$static" 'options "slotheap.slots=0x1aBcDeF"'
seed size-decimal-digits "$static" 'options "slotheap.size=1234567890"'
seed size-unaligned "$plain" 'options "slotheap.size=12345"'
seed size-lower-m "$static" 'options "slotheap.size=1m"'
seed size-g "$static" 'options "slotheap.size=1G"'
seed slots "$plain" 'options "slotheap.slots=300"'
seed slots-hex "$plain" 'options "slotheap.slots=0X1f"'
# A leading zero is decimal, not octal: 0100K is 100 KiB (octal would give 64 KiB), 010 ten.
seed size-leading-zero "$plain" 'options "slotheap.size=0100K"'
seed slots-leading-zero "$plain" 'options "slotheap.slots=010"'
# Separators (space, tab, newline, NUL), ignored words, later options overriding earlier.
seed both-override "$plain" \
	'options "quiet slotheap.slots=9\tslotheap.size=1G\nslotheap.size=128K\x00slotheap.slots=40 ro"'
seed near-misses "$plain" \
	'options "Slotheap.size=1M slotheap.size slotheap.sizes=4K slotheap.slotsx=3 slotheap.slots"'
seed empty "$plain" 'options ""'
# Malformed values: -1, the option before stays applied, the ones after are not read.
seed bad-suffix "$plain" 'options "slotheap.slots=100 slotheap.size=12x slotheap.slots=7"'
seed bad-empty "$plain" 'options "slotheap.size="'
seed bad-zero "$plain" 'options "slotheap.size=256K slotheap.size=0"'
seed bad-zero-k "$plain" 'options "slotheap.size=0K"'
seed bad-slots-zero "$plain" 'options "slotheap.slots=0"'
seed bad-hex-empty "$plain" 'options "slotheap.size=0x"'
seed bad-suffix-only "$plain" 'options "slotheap.size=K"'
seed bad-slots-suffix "$plain" 'options "slotheap.slots=1K"'
seed bad-double-eq "$plain" 'options "slotheap.size==1"'
seed bad-sign "$plain" 'options "slotheap.slots=+5"'
seed bad-cr "$plain" 'options "slotheap.size=64K\r"'
seed bad-hex-digit "$plain" 'options "slotheap.size=0x1g0"'
# Overflow: the largest values that fit are applied, larger ones are malformed (chosen so
# that a value computed modulo 2^64 would not come out as 0, which is malformed anyway).
seed size-max "$plain" 'options "slotheap.size=18446744073709551615"'
seed size-max-hex "$static" 'options "slotheap.size=0xffffffffffffffff"'
seed bad-size-overflow "$plain" 'options "slotheap.size=18446744073709551616"'
seed bad-size-overflow-wrap "$plain" 'options "slotheap.size=18446744073709551617"'
seed bad-size-overflow-digits "$plain" 'options "slotheap.size=20000000000000000000"'
seed bad-size-hex-overflow "$plain" 'options "slotheap.size=0x10000000000000000"'
seed size-max-g "$plain" 'options "slotheap.size=17179869183G"'
seed bad-size-g-overflow "$plain" 'options "slotheap.size=17179869185G"'
seed bad-size-m-overflow "$plain" 'options "slotheap.size=0x100000000001M"'
seed bad-size-k-overflow "$plain" 'options "slotheap.size=18014398509481985K"'
seed slots-max "$plain" 'options "slotheap.slots=18446744073709551615"'
seed bad-slots-overflow "$plain" 'options "slotheap.slots=18446744073709551616"'
seed slots-too-many "$plain" 'options "slotheap.slots=16777216"'
seed slots-too-big "$static" 'options "slotheap.slots=0xffffff"'
seed size-beyond-pool "$plain" 'options "slotheap.size=16M"'
# The defaults (SH_DEFAULT_HEAP_SIZE, SH_DEFAULT_SLOTS) where no option sets a field.
seed defaults "$static" 'options default-size default-slots "console=ttyS0"'
seed default-slots "$plain" 'options default-slots "slotheap.size=512K"'
seed default-size "$plain" 'options default-size "slotheap.slots=64"'
seed default-size-set "$plain" 'options default-size default-slots "slotheap.size=128K slotheap.slots=16"'

echo "gen-boot-options-seeds: $n seeds written to $out/seed-opts-*"
