#!/usr/bin/env bash
# make check-install: build against an installed slotheap through pkg-config alone (the
# environment points pkg-config at the scratch root) and run what was built.
set -euo pipefail
t="$INSTALL_TEST"
host=$(pkg-config --cflags --libs slotheap)
target=$(pkg-config --cflags --libs slotheap-i386-elf)
echo "check-install: pkg-config slotheap:          $host"
echo "check-install: pkg-config slotheap-i386-elf: $target"

# Every other target installed: its pkg-config file resolves to an installed library.
for pc in "$PKG_CONFIG_LIBDIR"/slotheap-*.pc; do
	name=$(basename "$pc" .pc)
	libdir=$(pkg-config --variable=libdir "$name") # pkg-config puts the sysroot in front
	for lib in libslotheap.a libslotheap_libpayload.a; do
		[ -f "$libdir/$lib" ] || {
			echo "check-install: $name: $libdir/$lib is missing"
			exit 1
		}
	done
	echo "check-install: $name: $(pkg-config --libs "$name")"
done

# The host library: the memory-table CLI over a sample map.
# shellcheck disable=SC2046
$CC -std=c11 -D_POSIX_C_SOURCE=200809L -O1 $(pkg-config --cflags slotheap) tools/sh-memmap.c \
	-o "$t/sh-memmap" $(pkg-config --libs slotheap)
"$t/sh-memmap" tests/data/memmaps/01-qemu-q35-seabios-6g.csv >"$t/sh-memmap.out"
grep -q "heap" "$t/sh-memmap.out"
echo "check-install: host CLI built from the installed library and run"

# The payload: its own sources, the installed headers and target libraries.
mkdir -p "$t/payload"
# shellcheck disable=SC2086,SC2046
$PAYLOAD_CC $PAYLOAD_CFLAGS $(pkg-config --cflags slotheap-i386-elf) -Iexamples/selftest \
	-c examples/payload/payload.c -o "$t/payload/payload.o"
# shellcheck disable=SC2086,SC2046
$PAYLOAD_CC $PAYLOAD_CFLAGS $(pkg-config --cflags slotheap-i386-elf) -Iexamples/selftest \
	-c examples/selftest/selftest.c -o "$t/payload/selftest.o"
$PAYLOAD_CC -m32 -c examples/payload/entry.S -o "$t/payload/entry.o"
# shellcheck disable=SC2086,SC2046
$PAYLOAD_CC $PAYLOAD_LDFLAGS -T examples/payload/link.ld -o "$t/payload/payload.elf" \
	"$t/payload/entry.o" "$t/payload/payload.o" "$t/payload/selftest.o" \
	$(pkg-config --libs slotheap-i386-elf) -lgcc
echo "check-install: payload built from the installed headers and i386-elf libraries"

log="$t/payload/serial.log"
status=0
timeout 120 "$BOOT_QEMU" -machine pc -accel tcg -m 512M -display none -no-reboot \
	-monitor none -serial "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$t/payload/payload.elf" -append "slotheap.size=16M" || status=$?
if [ "$status" != 33 ] || ! grep -q "RESULT: PASS" "$log"; then
	echo "check-install: the installed build's payload failed (exit $status, log $log)"
	exit 1
fi
echo "check-install: it boots (multiboot v1, 512 MiB) and passes: $(tr -d '\r' <"$log" | grep '^heap:')"
