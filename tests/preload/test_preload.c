/* SPDX-License-Identifier: MIT */
/*
 * The preload library's own contract, checked from inside a program that runs with
 * LD_PRELOAD=libslotheap-preload.so: each call's results and errno, alignment rules, misuse
 * reports (exact text), growth by regions and ENOMEM when they run out, the at-exit check,
 * fork while another thread allocates, and four threads allocating at once.
 *
 * Cases that need other settings (SLOTHEAP_*) run this program again as a child with its
 * own environment and a mode argument, and check its exit status and its reports.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

static char self_path[4096];

/* Opaque to the compiler, so that calls to the allocator are not folded away. */
static void *volatile sink;

/* Sizes the compiler cannot see, so that it does not reject the absurd ones at build time. */
static size_t opaque(size_t v)
{
	volatile size_t x = v;
	return x;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- capturing what the library writes to fd 2 ---- */

struct capture {
	int saved;
	char path[64];
};

static void capture_start(struct capture *c)
{
	snprintf(c->path, sizeof(c->path), "/tmp/sh-preload-test-%d", (int)getpid());
	int fd = open(c->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	c->saved = dup(2);
	assert_true(c->saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

/* Restores fd 2 and returns what was written (static buffer). */
static const char *capture_end(struct capture *c)
{
	static char text[65536];

	assert_int_equal(dup2(c->saved, 2), 2);
	close(c->saved);
	int fd = open(c->path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	unlink(c->path);
	text[n > 0 ? n : 0] = '\0';
	return text;
}

/* Runs this program in `mode` with extra environment entries (which replace inherited ones
 * of the same name; SLOTHEAP_* are never inherited); returns its exit status and what it
 * wrote to fd 2. */
static int run_child(const char *mode, const char *const *env, const char **err)
{
	struct capture c;
	char *envp[64];
	size_t n = 0;

	for (const char *const *e = env; *e && n < 32; e++)
		envp[n++] = (char *)*e;
	size_t given = n;
	for (char **e = environ; *e && n < 63; e++) {
		bool replaced = strncmp(*e, "SLOTHEAP_", 9) == 0;
		size_t name_len = strcspn(*e, "=");
		for (size_t i = 0; i < given; i++)
			if (!strncmp(envp[i], *e, name_len + 1))
				replaced = true;
		if (!replaced)
			envp[n++] = *e;
	}
	envp[n] = NULL;

	capture_start(&c);
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {self_path, (char *)mode, NULL};
		execve(self_path, argv, envp);
		_exit(127);
	}
	int status = 0;
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	*err = capture_end(&c);
	if (!WIFEXITED(status)) {
		print_message("child %s died: %s\n", mode, *err);
		return -1;
	}
	return WEXITSTATUS(status);
}

/* ---- the library is the process's malloc ---- */

static void test_library_is_loaded(void **state)
{
	Dl_info info;
	(void)state;

	void *sym = dlsym(RTLD_DEFAULT, "malloc");
	assert_non_null(sym);
	assert_true(dladdr(sym, &info) != 0);
	assert_non_null(info.dli_fname);
	assert_non_null(strstr(info.dli_fname, "libslotheap-preload.so"));
}

/* ---- malloc, calloc, malloc_usable_size ---- */

static void test_malloc_contract(void **state)
{
	(void)state;
	void *z1 = malloc(0), *z2 = malloc(0);
	assert_non_null(z1);
	assert_non_null(z2);
	assert_ptr_not_equal(z1, z2);
	assert_true(malloc_usable_size(z1) >= 1);
	free(z1);
	free(z2);

	for (size_t n = 1; n <= 5000; n += 7) {
		unsigned char *p = malloc(n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		assert_true(malloc_usable_size(p) >= n);
		memset(p, (int)(n & 0xff), n);
		assert_int_equal(p[n - 1], n & 0xff);
		free(p);
	}
	assert_int_equal(malloc_usable_size(NULL), 0);
	free(NULL);

	errno = 0;
	sink = malloc(opaque(SIZE_MAX));
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	sink = malloc(opaque(SIZE_MAX / 2));
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
}

static void test_calloc_contract(void **state)
{
	(void)state;
	/* Dirty some blocks first so that calloc has used memory to hand out. */
	for (int i = 0; i < 64; i++) {
		unsigned char *d = malloc(3000);
		assert_non_null(d);
		memset(d, 0xa5, 3000);
		free(d);
	}
	unsigned char *p = calloc(1000, 3);
	assert_non_null(p);
	for (size_t i = 0; i < 3000; i++)
		assert_int_equal(p[i], 0);
	free(p);

	errno = 0;
	sink = calloc(opaque(SIZE_MAX / 2 + 1), 2);
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	sink = calloc(opaque((size_t)1 << 33), (size_t)1 << 33);
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
	p = calloc(0, 0);
	assert_non_null(p);
	free(p);
}

/* ---- realloc ---- */

static void test_realloc_contract(void **state)
{
	(void)state;
	unsigned char *p = realloc(NULL, 100);
	assert_non_null(p);
	for (int i = 0; i < 100; i++)
		p[i] = (unsigned char)i;
	/* Grow several times (in place and moving), then shrink: the prefix survives. */
	for (size_t n = 200; n <= 4 * MIB; n *= 3) {
		sink = malloc(40); /* something above p, so that some grows must move */
		p = realloc(p, n);
		assert_non_null(p);
		for (int i = 0; i < 100; i++)
			assert_int_equal(p[i], i);
		free(sink);
	}
	p = realloc(p, 50);
	assert_non_null(p);
	for (int i = 0; i < 50; i++)
		assert_int_equal(p[i], i);

	/* A size no region can hold: NULL, ENOMEM, p untouched and still live. */
	errno = 0;
	sink = realloc(p, opaque(SIZE_MAX / 2));
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
	assert_true(malloc_usable_size(p) >= 50);
	assert_int_equal(p[49], 49);

	/* realloc(p, 0) frees p (glibc's behaviour) and returns NULL. */
	sink = realloc(p, 0);
	assert_null(sink);
	void *q = reallocarray(NULL, 10, 10);
	assert_non_null(q);
	errno = 0;
	void *r = reallocarray(q, opaque(SIZE_MAX / 2), 3);
	assert_null(r);
	assert_int_equal(errno, ENOMEM);
	if (!r)
		free(q); /* still live after the failure */
}

/* ---- the aligned calls ---- */

static void test_posix_memalign_contract(void **state)
{
	void *p = (void *)&p;
	(void)state;

	static const size_t bad[] = {0, 1, 2, 4, 3, 24, 48, 1000};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(posix_memalign(&p, bad[i], 16), EINVAL);
		assert_ptr_equal(p, (void *)&p); /* untouched */
	}
	for (size_t a = sizeof(void *); a <= 4 * MIB; a *= 2) {
		assert_int_equal(posix_memalign(&p, a, 100), 0);
		assert_int_equal((uintptr_t)p % a, 0);
		memset(p, 1, 100);
		free(p);
	}
	assert_int_equal(posix_memalign(&p, 64, 0), 0);
	assert_non_null(p);
	free(p);
	void *keep = (void *)&keep;
	p = keep;
	errno = 1234;
	assert_int_equal(posix_memalign(&p, 64, opaque(SIZE_MAX - 100)), ENOMEM);
	assert_ptr_equal(p, keep);
	assert_int_equal(errno, 1234); /* posix_memalign reports by its result only */
}

static void test_aligned_alloc_memalign_contract(void **state)
{
	(void)state;
	errno = 0;
	sink = aligned_alloc(opaque(0), 16);
	assert_null(sink);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	sink = aligned_alloc(opaque(24), 48);
	assert_null(sink);
	assert_int_equal(errno, EINVAL);
	/* C17: the size need not be a multiple of the alignment. */
	void *p = aligned_alloc(64, 100);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 64, 0);
	free(p);
	p = aligned_alloc(1, 5);
	assert_non_null(p);
	free(p);

	/* memalign rounds a non-power of two up, as glibc does; tiny alignments are fine. */
	p = memalign(opaque(24), 10);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 32, 0);
	free(p);
	p = memalign(opaque(0), 10);
	assert_non_null(p);
	free(p);
	errno = 0;
	sink = memalign(opaque(SIZE_MAX / 2 + 2), 10);
	assert_null(sink);
	assert_int_equal(errno, EINVAL);
	/* A huge alignment gets a region made for it. */
	p = memalign((size_t)1 << 30, 64);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % ((size_t)1 << 30), 0);
	memset(p, 7, 64);
	free(p);
	errno = 0;
	sink = memalign(4096, opaque(SIZE_MAX - 4096));
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
}

static void test_valloc_pvalloc_contract(void **state)
{
	(void)state;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	void *p = valloc(10);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % ps, 0);
	free(p);
	p = valloc(0);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % ps, 0);
	free(p);
	p = pvalloc(1);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % ps, 0);
	assert_true(malloc_usable_size(p) >= ps);
	free(p);
	p = pvalloc(0);
	assert_non_null(p);
	assert_true(malloc_usable_size(p) >= ps);
	free(p);
	p = pvalloc(ps + 1);
	assert_non_null(p);
	assert_true(malloc_usable_size(p) >= 2 * ps);
	free(p);
	errno = 0;
	sink = pvalloc(opaque(SIZE_MAX - 10));
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
}

/* ---- large blocks ---- */

static void test_large_requests(void **state)
{
	(void)state;
	size_t sizes[] = {20 * MIB, 48 * MIB, 100 * MIB};
	unsigned char *p[3];
	for (int i = 0; i < 3; i++) {
		p[i] = malloc(sizes[i]);
		assert_non_null(p[i]);
		p[i][0] = (unsigned char)(i + 1);
		p[i][sizes[i] - 1] = (unsigned char)(i + 1);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(p[i][0], i + 1);
		assert_int_equal(p[i][sizes[i] - 1], i + 1);
		free(p[i]);
	}
	unsigned char *z = calloc(1, 30 * MIB);
	assert_non_null(z);
	assert_int_equal(z[30 * MIB - 1], 0);
	free(z);

	/* A large calloc over dirty memory: the block's whole pages are given back, the partial
	 * pages at either end zeroed by hand; every byte must read 0. */
	size_t n = 5 * MIB + 100;
	unsigned char *d = malloc(n);
	assert_non_null(d);
	memset(d, 0xff, n);
	free(d);
	for (int round = 0; round < 2; round++) {
		z = calloc(n, 1);
		assert_non_null(z);
		for (size_t i = 0; i < n; i++)
			if (z[i])
				fail_msg("calloc byte %zu of %zu is %d", i, n, z[i]);
		memset(z, 0xee, n);
		free(z);
	}
}

/* ---- misuse reports: exact text, and nothing followed or changed ---- */

static void expect_report(const char *text, const char *call, const void *p, const char *rest)
{
	char want[512];
	snprintf(want, sizeof(want), "slotheap[%d]: misuse: %s(%p): %s\n", (int)getpid(), call,
		 p, rest);
	if (!strstr(text, want))
		fail_msg("expected report\n  %s  in\n%s", want, text);
}

static void test_misuse_reports(void **state)
{
	struct capture c;
	(void)state;

	/* Memory slotheap never handed out: the program's own mapping. */
	unsigned char *page =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(page != MAP_FAILED);
	memset(page, 0x5a, 4096);
	unsigned char *p = malloc(64);
	assert_non_null(p);
	memset(p, 0x11, 64);
	/* Three blocks side by side (first fit puts each just above the last when the hole
	 * holds all three): the middle one, freed, stays the start of a free block. */
	unsigned char *trio[3] = {0};
	for (int attempt = 0; attempt < 20; attempt++) {
		for (int i = 0; i < 3; i++)
			trio[i] = malloc(200 * 1024);
		if (trio[1] == trio[0] + malloc_usable_size(trio[0]) &&
		    trio[2] == trio[1] + malloc_usable_size(trio[1]))
			break;
		sink = trio[0]; /* kept: the next attempt starts higher */
		free(trio[1]);
		free(trio[2]);
		trio[0] = NULL;
	}
	assert_non_null(trio[0]);
	unsigned char *freed = trio[1];
	free(freed);

	capture_start(&c);
	free(page + 16);
	free(p + 16);
	errno = 0;
	void *r = realloc(page, 100);
	int realloc_errno = errno;
	size_t us = malloc_usable_size(page);
	free(freed);
	const char *text = capture_end(&c);

	assert_null(r);
	assert_int_equal(realloc_errno, EINVAL);
	assert_int_equal(us, 0);
	expect_report(
		text, "free", page + 16,
		"SH_EFOREIGN: not allocated by slotheap (outside every region); not followed");
	expect_report(text, "free", p + 16,
		      "SH_EBADPTR: inside the heap but not the start of a block; ignored");
	expect_report(
		text, "realloc", page,
		"SH_EFOREIGN: not allocated by slotheap (outside every region); not followed");
	expect_report(text, "malloc_usable_size", page, "not a live block; 0 returned");
	expect_report(text, "free", freed, "SH_EDOUBLEFREE: already freed; ignored");
	/* Nothing was followed or changed. */
	for (int i = 0; i < 4096; i++)
		assert_int_equal(page[i], 0x5a);
	for (int i = 0; i < 64; i++)
		assert_int_equal(p[i], 0x11);
	assert_true(malloc_usable_size(p) >= 64);
	free(p);
	free(trio[0]);
	free(trio[2]);
	munmap(page, 4096);
}

/* ---- fork while another thread allocates ---- */

static volatile int churn_stop;

static void *churn(void *arg)
{
	uint64_t s = (uintptr_t)arg | 1;
	void *slots[64] = {0};
	while (!churn_stop) {
		unsigned i = (unsigned)(rng_next(&s) % 64);
		free(slots[i]);
		slots[i] = malloc((size_t)(rng_next(&s) % 2000));
	}
	for (int i = 0; i < 64; i++)
		free(slots[i]);
	return NULL;
}

static void test_fork_while_allocating(void **state)
{
	pthread_t t;
	(void)state;

	char *keep = malloc(1000);
	assert_non_null(keep);
	memset(keep, 'k', 1000);
	churn_stop = 0;
	assert_int_equal(pthread_create(&t, NULL, churn, (void *)(uintptr_t)7), 0);
	for (int round = 0; round < 40; round++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			/* A lock left held by the other thread would hang here: the alarm
			 * turns that into a failure. */
			alarm(10);
			for (int i = 0; i < 1000; i++) {
				char *q = malloc((size_t)(i % 300) + 1);
				if (!q)
					_exit(2);
				q[0] = 'x';
				free(q);
			}
			for (int i = 0; i < 1000; i++)
				if (keep[i] != 'k')
					_exit(3);
			free(keep);
			_exit(0);
		}
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	churn_stop = 1;
	pthread_join(t, NULL);
	free(keep);
}

/* ---- four threads hammering malloc, realloc and free ---- */

#define HAMMER_SLOTS 512
#define HAMMER_OPS 200000

static void *hammer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t s = 0x9e3779b97f4a7c15ull * (id + 1);
	unsigned char *blk[HAMMER_SLOTS] = {0};
	size_t len[HAMMER_SLOTS] = {0};
	uintptr_t bad = 0;

	for (int op = 0; op < HAMMER_OPS && !bad; op++) {
		unsigned i = (unsigned)(rng_next(&s) % HAMMER_SLOTS);
		unsigned char tag = (unsigned char)(id * 64 + i % 64);
		/* Every byte of a live block carries its owner's tag: a block handed out twice
		 * or overwritten by another thread shows up here. */
		for (size_t k = 0; k < len[i]; k++)
			if (blk[i][k] != tag)
				bad = (uintptr_t)blk[i] | 1;
		size_t n = (size_t)(rng_next(&s) % (rng_next(&s) % 8 == 0 ? 20000 : 200));
		switch (rng_next(&s) % 3) {
		case 0:
			free(blk[i]);
			blk[i] = NULL;
			len[i] = 0;
			break;
		case 1: {
			unsigned char *q = realloc(blk[i], n + 1);
			if (!q)
				return (void *)2;
			blk[i] = q;
			if (n + 1 > len[i])
				memset(q + len[i], tag, n + 1 - len[i]);
			len[i] = n + 1;
			break;
		}
		default:
			free(blk[i]);
			blk[i] = malloc(n);
			if (!blk[i])
				return (void *)2;
			memset(blk[i], tag, n);
			len[i] = n;
		}
	}
	for (int i = 0; i < HAMMER_SLOTS; i++)
		free(blk[i]);
	return (void *)bad;
}

static void test_four_threads(void **state)
{
	pthread_t t[4];
	(void)state;

	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < 4; i++) {
		void *rc;
		pthread_join(t[i], &rc);
		assert_ptr_equal(rc, NULL);
	}
}

/* ---- children with their own settings ---- */

/* Fills a small heap with 64 KiB blocks: it grows to SLOTHEAP_REGIONS regions, then malloc
 * fails with ENOMEM; after a free, malloc works again. Exit status 0 when all held. */
static int child_grow(void)
{
	static void *blk[4096];
	size_t n = 0;

	errno = 0;
	while (n < 4096 && (blk[n] = malloc(64 * 1024)) != NULL)
		memset(blk[n++], 1, 64 * 1024);
	if (n == 4096 || errno != ENOMEM)
		return 1;
	/* 1 + 2 + 4 MiB of regions, less metadata and rounding: at least 6 MiB of blocks. */
	if (n * 64 * 1024 < 6 * MIB)
		return 2;
	free(blk[--n]);
	blk[n] = malloc(64 * 1024);
	if (!blk[n])
		return 3;
	for (size_t i = 0; i <= n; i++)
		free(blk[i]);
	return 0;
}

static void test_growth_then_enomem(void **state)
{
	const char *err;
	(void)state;

	const char *const env[] = {"SLOTHEAP_SIZE=1M", "SLOTHEAP_SLOTS=256",
				   "SLOTHEAP_REGIONS=3", "SLOTHEAP_CHECK=1", NULL};
	assert_int_equal(run_child("child-grow", env, &err), 0);
	if (!strstr(err, "exit check clean (1 checks): ") || !strstr(err, " 3 regions ("))
		fail_msg("no clean exit check over 3 regions in:\n%s", err);
}

/* Periodic checks: every 100 calls. */
static int child_churn(void)
{
	void *b[100] = {0};
	for (int i = 0; i < 5000; i++) {
		free(b[i % 100]);
		b[i % 100] = malloc((size_t)(i * 37 % 1000));
	}
	for (int i = 0; i < 100; i++)
		free(b[i]);
	return 0;
}

static void test_periodic_check(void **state)
{
	const char *err;
	(void)state;

	const char *const env[] = {"SLOTHEAP_CHECK=100", NULL};
	assert_int_equal(run_child("child-churn", env, &err), 0);
	/* 10,000 calls at least in the loop alone: 100 checks or more, plus the one at exit. */
	const char *at = strstr(err, "exit check clean (");
	assert_non_null(at);
	unsigned long nchecks = strtoul(at + strlen("exit check clean ("), NULL, 10);
	if (nchecks < 101)
		fail_msg("only %lu checks in:\n%s", nchecks, err);
}

/* The at-exit check runs after the program's atexit handlers: what they free is free. */
#define ATEXIT_BLOCKS 5000
static void *atexit_blocks[ATEXIT_BLOCKS];

static void free_atexit_blocks(void)
{
	for (int i = 0; i < ATEXIT_BLOCKS; i++)
		free(atexit_blocks[i]);
}

static int child_atexit(int do_free)
{
	for (int i = 0; i < ATEXIT_BLOCKS; i++)
		if (!(atexit_blocks[i] = malloc(100)))
			return 1;
	if (do_free)
		atexit(free_atexit_blocks);
	printf("output of the program\n");
	return 0;
}

static unsigned long live_blocks_in(const char *err)
{
	const char *at = strstr(err, ", live ");
	return at ? strtoul(at + strlen(", live "), NULL, 10) : 0;
}

static void test_exit_check_after_atexit(void **state)
{
	const char *err;
	(void)state;

	const char *const env[] = {"SLOTHEAP_CHECK=1", NULL};
	assert_int_equal(run_child("child-atexit-keep", env, &err), 0);
	unsigned long kept = live_blocks_in(err);
	assert_true(kept >= ATEXIT_BLOCKS);
	assert_int_equal(run_child("child-atexit-free", env, &err), 0);
	unsigned long freed = live_blocks_in(err);
	if (!strstr(err, "exit check clean") || freed + ATEXIT_BLOCKS > kept)
		fail_msg("atexit frees not seen by the exit check (%lu vs %lu live):\n%s",
			 freed, kept, err);
}

/* Bad settings are reported and replaced by the defaults; the program runs on. */
static void test_bad_settings(void **state)
{
	const char *err;
	(void)state;

	const char *const env[] = {"SLOTHEAP_SIZE=12x", "SLOTHEAP_SLOTS=0",
				   "SLOTHEAP_REGIONS=40", "SLOTHEAP_CHECK=1", NULL};
	assert_int_equal(run_child("child-churn", env, &err), 0);
	static const char *const want[] = {
		("SLOTHEAP_SIZE='12x' is not a number (digits, optional K, M or G); using "
		 "33554432"),
		"SLOTHEAP_SLOTS='0' is outside 1..16777215; using 65536",
		"SLOTHEAP_REGIONS='40' is outside 1..32; using 32",
		"exit check clean",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(err, want[i]))
			fail_msg("expected \"%s\" in:\n%s", want[i], err);

	/* More slots than the first region can hold beside its blocks. */
	const char *const env2[] = {"SLOTHEAP_SIZE=64K", "SLOTHEAP_SLOTS=100000",
				    "SLOTHEAP_CHECK=1", NULL};
	assert_int_equal(run_child("child-churn", env2, &err), 0);
	/* The figure between the two parts is the core's metadata size, not checked here. */
	if (!strstr(err, "SLOTHEAP_SLOTS=100000 needs ") ||
	    !strstr(err, " bytes of metadata, over half of SLOTHEAP_SIZE=65536; using slots = "
			 "size / 512") ||
	    !strstr(err, "exit check clean"))
		fail_msg("no slot-count report in:\n%s", err);
}

/* A first call made before libc has set up environ: the settings come from
 * /proc/self/environ. The library is loaded privately (dlopen, no LD_PRELOAD), environ
 * emptied, then its own malloc called. */
static int child_early(void)
{
	void *h = dlopen(getenv("SH_TEST_LIB"), RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return 1;
	void *m = dlsym(h, "malloc"), *f = dlsym(h, "free");
	if (!m || !f || m == dlsym(RTLD_DEFAULT, "malloc"))
		return 2;
	void *(*lib_malloc)(size_t);
	void (*lib_free)(void *);
	memcpy(&lib_malloc, &m, sizeof(m));
	memcpy(&lib_free, &f, sizeof(f));
	char **saved = environ;
	environ = NULL;
	void *p = lib_malloc(100);
	environ = saved;
	if (!p)
		return 3;
	lib_free(p);
	return 0;
}

static void test_settings_before_environ(void **state)
{
	const char *err;
	char lib[4200];
	(void)state;

	const char *preload = getenv("LD_PRELOAD");
	assert_non_null(preload);
	snprintf(lib, sizeof(lib), "SH_TEST_LIB=%s", preload);
	const char *const env[] = {lib, "LD_PRELOAD=", "SLOTHEAP_SIZE=12x", "SLOTHEAP_CHECK=1",
				   NULL};
	assert_int_equal(run_child("child-early", env, &err), 0);
	if (!strstr(err, "SLOTHEAP_SIZE='12x' is not a number") ||
	    !strstr(err, "exit check clean (1 checks): 2 calls"))
		fail_msg("settings not read from /proc/self/environ:\n%s", err);
}

/* SLOTHEAP_LOG: reports are appended to a file instead of fd 2. */
static void test_log_file(void **state)
{
	const char *err;
	char log[64], env_log[96];
	(void)state;

	snprintf(log, sizeof(log), "/tmp/sh-preload-log-%d", (int)getpid());
	snprintf(env_log, sizeof(env_log), "SLOTHEAP_LOG=%s", log);
	unlink(log);
	const char *const env[] = {env_log, "SLOTHEAP_CHECK=1", NULL};
	assert_int_equal(run_child("child-churn", env, &err), 0);
	assert_null(strstr(err, "slotheap["));
	char text[4096] = {0};
	int fd = open(log, O_RDONLY);
	assert_true(fd >= 0);
	assert_true(read(fd, text, sizeof(text) - 1) > 0);
	close(fd);
	unlink(log);
	assert_non_null(strstr(text, "exit check clean"));
}

int main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (n <= 0)
		return 100;
	self_path[n] = '\0';

	if (argc > 1) {
		if (!strcmp(argv[1], "child-grow"))
			return child_grow();
		if (!strcmp(argv[1], "child-churn"))
			return child_churn();
		if (!strcmp(argv[1], "child-atexit-keep"))
			return child_atexit(0);
		if (!strcmp(argv[1], "child-atexit-free"))
			return child_atexit(1);
		if (!strcmp(argv[1], "child-early"))
			return child_early();
		fprintf(stderr, "unknown mode %s\n", argv[1]);
		return 100;
	}

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_library_is_loaded),
		cmocka_unit_test(test_malloc_contract),
		cmocka_unit_test(test_calloc_contract),
		cmocka_unit_test(test_realloc_contract),
		cmocka_unit_test(test_posix_memalign_contract),
		cmocka_unit_test(test_aligned_alloc_memalign_contract),
		cmocka_unit_test(test_valloc_pvalloc_contract),
		cmocka_unit_test(test_large_requests),
		cmocka_unit_test(test_misuse_reports),
		cmocka_unit_test(test_fork_while_allocating),
		cmocka_unit_test(test_four_threads),
		cmocka_unit_test(test_growth_then_enomem),
		cmocka_unit_test(test_periodic_check),
		cmocka_unit_test(test_exit_check_after_atexit),
		cmocka_unit_test(test_bad_settings),
		cmocka_unit_test(test_settings_before_environ),
		cmocka_unit_test(test_log_file),
	};
	return cmocka_run_group_tests_name("preload", tests, NULL, NULL);
}
