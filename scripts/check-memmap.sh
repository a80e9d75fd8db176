#!/usr/bin/env bash
# Runs sh-memmap over every sample map and compares its answers with the table of expected
# answers in the samples' README.md: the top RAM range below 4 GiB and the RAM range that
# takes a 1, 16 and 64 MiB heap. Each sample is read as CSV, as its original boot-log text,
# and as every binary table format written from it with --emit.
#
# A fourth argument names the 32-bit test program (tests/memmap_m32.c) to run as well; a host
# that cannot execute 32-bit programs skips it and says so.
#
#   scripts/check-memmap.sh CLI DATA_DIR OUT_DIR [M32_PROGRAM]
set -uo pipefail
cli=$1
data=$2
out=$3
m32=${4:-}
mkdir -p "$out"

formats="cbtable cbimage mb1 mb2 mb2info e820 e820-24"
pass=0
fail=0
rows=0
table=""

# One README row: | name | top | 1 MiB | 16 MiB | 64 MiB |, ranges written start–end.
rows_of() {
	sed -n 's/^| \([0-9][0-9]-[^ |]*\) |\(.*\)|$/\1|\2/p' "$data/README.md" |
		sed 's/–/-/g; s/ //g'
}

# The answers of one CLI run, in README order: top|1M|16M|64M.
answers() {
	awk '
	/^top RAM range:/ { top = $4 }
	/^heap / {
		size = $2 " " $3; sub(":", "", size)
		r = ($4 == "-") ? "-" : $8
		ans[size] = r
	}
	END { printf "%s|%s|%s|%s\n", top, ans["1 MiB"], ans["16 MiB"], ans["64 MiB"] }'
}

check_one() { # name label file [format]
	local name=$1 label=$2 file=$3 fmt=${4:-auto} got
	got=$("$cli" "$file" --format "$fmt" --heap 1M --heap 16M --heap 64M | answers)
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1))
		return 0
	fi
	fail=$((fail + 1))
	echo "check-memmap: $name ($label): expected $want"
	echo "check-memmap: $name ($label): got      $got"
	return 1
}

while IFS='|' read -r name top m1 m16 m64; do
	rows=$((rows + 1))
	want="$top|$m1|$m16|$m64"
	csv="$data/$name.csv"
	txt="$data/$name.txt"
	ok=0
	n=0
	check_one "$name" csv "$csv" csv && ok=$((ok + 1))
	n=$((n + 1))
	check_one "$name" text "$txt" text && ok=$((ok + 1))
	n=$((n + 1))
	for f in $formats; do
		bin="$out/$name.$f"
		n=$((n + 1))
		if ! "$cli" "$csv" --emit "$f" -o "$bin" >/dev/null; then
			fail=$((fail + 1))
			echo "check-memmap: $name: --emit $f failed"
			continue
		fi
		# Once with the format named, once detected.
		check_one "$name" "$f" "$bin" "$f" && ok=$((ok + 1))
		n=$((n + 1))
		check_one "$name" "$f auto" "$bin" && ok=$((ok + 1))
	done
	table="$table$(printf '  %-42s %2d/%-2d' "$name" "$ok" "$n")\n"
done < <(rows_of)

# Rejections name their reason and exit 1.
reject() { # label expected-reason cli-args...
	local label=$1 want=$2 got rc
	shift 2
	got=$("$cli" "$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 1 ] && printf '%s\n' "$got" | grep -q "^rejected: $want:"; then
		pass=$((pass + 1))
		rejects=$((rejects + 1))
	else
		fail=$((fail + 1))
		echo "check-memmap: $label: expected exit 1 and 'rejected: $want', got exit $rc:"
		printf '%s\n' "$got" | tail -n 3
	fi
}
rejects=0
base="$out/01-qemu-q35-seabios-6g"
if [ -f "$base.cbtable" ] && [ -f "$base.e820" ]; then
	# a flipped byte in the last range's type: the table checksum no longer matches
	cp "$base.cbtable" "$out/bad-checksum.cbtable"
	size=$(stat -c %s "$out/bad-checksum.cbtable")
	printf '\x07' | dd of="$out/bad-checksum.cbtable" bs=1 seek=$((size - 4)) conv=notrunc \
		status=none
	reject "corrupted coreboot table" SH_MM_ETBLCHECKSUM "$out/bad-checksum.cbtable"
	head -c 30 "$base.e820" >"$out/short.e820"
	reject "e820 array cut mid-entry" SH_MM_ERANGES_PAST_END "$out/short.e820" --format e820
	reject "34-range map into 32 entries" SH_MM_EOVERFLOW \
		"$data/13-ibm-blade-8737r2a-34entries-kexec.csv" --cap 32
	printf 'LBIO\x18\x00\x00\x00' >"$out/bad-header.cbtable"
	head -c 60 /dev/zero >>"$out/bad-header.cbtable"
	reject "LBIO with a bad header checksum" SH_MM_EHDRCHECKSUM \
		"$out/bad-header.cbtable" --format cbtable
	printf '0x0,0x1000,2\n' >"$out/no-ram.csv"
	reject "map without RAM" SH_MM_ENORAM "$out/no-ram.csv"
fi

# Exit statuses of a table that is read: 0 when every heap asked for is placed, 3 when one
# cannot be (tools/sh-memmap.c); the placement line names the reason.
status_case() { # label expected-status expected-line-pattern cli-args...
	local label=$1 want=$2 pat=$3 got rc
	shift 3
	got=$("$cli" "$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] && printf '%s\n' "$got" | grep -qE "$pat"; then
		pass=$((pass + 1))
		statuses=$((statuses + 1))
	else
		fail=$((fail + 1))
		echo "check-memmap: $label: expected exit $want and a line matching '$pat', got exit $rc:"
		printf '%s\n' "$got" | tail -n 6
	fi
}
statuses=0
printf '0x0,0x9f000,1\n0x100000000,0x180000000,1\n' >"$out/ram-above-4g.csv"
status_case "all RAM above 4 GiB, default heap" 3 \
	'^heap +8 MiB: - \(SH_MM_ENOFIT.*\(default footprint\)$' "$out/ram-above-4g.csv"
status_case "all RAM above 4 GiB, --heap 1M" 3 '^heap +1 MiB: - \(SH_MM_ENOFIT' \
	"$out/ram-above-4g.csv" --heap 1M
status_case "all RAM above 4 GiB, limit 8 GiB" 0 '^heap +1 MiB: 0x17ff00000-0x180000000 ' \
	"$out/ram-above-4g.csv" --heap 1M --limit 0x200000000
status_case "one of two heaps does not fit" 3 '^heap +64 MiB: - \(SH_MM_ENOFIT' \
	"$out/ram-above-4g.csv" --heap 64K --heap 64M
status_case "default footprint fits, 64 MiB does not" 0 '^heap +64 MiB: - \(SH_MM_ENOFIT' \
	"$data/17-duron800-multiboot-v1-handcopied.csv"

# The fuzz seeds are what the emitters write today (scripts/gen-memmap-seeds.sh).
stale=0
seeds=0
if [ -n "${MEMMAP_CORPUS:-}" ] && [ -d "$MEMMAP_CORPUS" ]; then
	bash "$(dirname "$0")/gen-memmap-seeds.sh" "$cli" "$data" "$out/seeds" >/dev/null
	for f in "$out"/seeds/*; do
		seeds=$((seeds + 1))
		if ! cmp -s "$f" "$MEMMAP_CORPUS/$(basename "$f")"; then
			stale=$((stale + 1))
			echo "check-memmap: seed $(basename "$f") differs from $MEMMAP_CORPUS (make memmap-seeds)"
		fi
	done
	fail=$((fail + stale))
fi

echo "check-memmap: sample                                     agree"
printf "$table"
if [ "$rows" -eq 0 ]; then
	echo "check-memmap: no rows found in $data/README.md"
	exit 1
fi
echo "check-memmap: $rows samples, $pass runs agree with README.md ($rejects rejections named, $statuses exit statuses), $fail differ"
m32_note="not run"
if [ -n "$m32" ]; then
	"$m32" >"$out/m32.log" 2>&1
	rc=$?
	if [ "$rc" -eq 126 ] || grep -q "Exec format error" "$out/m32.log"; then
		m32_note="skipped: this host cannot execute 32-bit programs (built only)"
	elif [ "$rc" -ne 0 ]; then
		cat "$out/m32.log"
		m32_note="FAILED"
		fail=$((fail + 1))
	else
		m32_note=$(tail -n 1 "$out/m32.log")
	fi
fi
echo "check-memmap: 32-bit: $m32_note"
[ "$seeds" -gt 0 ] && echo "check-memmap: $seeds fuzz seeds, $stale stale"
[ "$fail" -eq 0 ]
