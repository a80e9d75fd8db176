/* SPDX-License-Identifier: MIT */
/*
 * Execution counter for the libFuzzer and AFL++ builds of every fuzz target, so that
 * `make fuzz` reports executions counted the same way for every engine and job count.
 *
 * Linked with -Wl,--wrap=LLVMFuzzerTestOneInput: the engine's calls reach
 * __wrap_LLVMFuzzerTestOneInput, which adds one to a 64-bit counter in the file named by
 * SH_FUZZ_EXEC_COUNTER (mapped shared, so every process of a run, libFuzzer's fork-mode jobs
 * and AFL++'s instances and forked children alike, adds to the same count) and calls the
 * target. Without the variable, or if the file cannot be mapped, it only calls the target.
 * It lives below fuzz/ on purpose: the replay and coverage builds do not wrap the entry point.
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int __real_LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __wrap_LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t *counter;
static int attached;

static void attach(void)
{
	const char *path = getenv("SH_FUZZ_EXEC_COUNTER");
	void *m;
	int fd;

	attached = 1;
	if (path == NULL || *path == '\0')
		return;
	fd = open(path, O_RDWR);
	if (fd < 0)
		return;
	m = mmap(NULL, sizeof(*counter), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m != MAP_FAILED)
		counter = m;
}

int __wrap_LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!attached)
		attach();
	if (counter != NULL)
		__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
	return __real_LLVMFuzzerTestOneInput(data, size);
}
