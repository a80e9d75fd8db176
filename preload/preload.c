/* SPDX-License-Identifier: MIT */
/*
 * libslotheap-preload.so: slotheap as the malloc of any dynamically linked program.
 *
 *   LD_PRELOAD=build/libslotheap-preload.so SLOTHEAP_CHECK=1 program ...
 *
 * One process-wide heap (struct sh_heap, static storage) behind one mutex; the core stays
 * single-threaded and freestanding, everything host-specific lives here. Regions are
 * anonymous mappings made with the raw mmap system call; none exists until the first call.
 *
 *   region k    standard size SLOTHEAP_SIZE << k and SLOTHEAP_SLOTS << k slots (doubling, each
 *               capped), or larger when one request needs more: a request that no region
 *               can serve adds a region sized for it, then is retried. With SLOTHEAP_REGIONS
 *               regions made (at most SH_MAX_REGIONS, 32: region masks are 32 bits), or when
 *               the kernel refuses the mapping, the call fails with ENOMEM.
 *
 * Initialisation happens inside the first call, whoever makes it (the dynamic loader, libc's
 * own start-up, a constructor): the settings come from `environ` (or /proc/self/environ when
 * libc has not set it up yet); nothing here calls dlsym, stdio or any function that may
 * allocate while the lock is held. Reports (misuse, checks, statistics) are formatted on the
 * stack and written with one write(2) each, so the reporting path cannot re-enter malloc.
 *
 * Misuse (free or realloc of a pointer slotheap did not hand out, an interior pointer, a
 * double free, malloc_usable_size of a dead pointer) is reported with the call and the
 * pointer and changes nothing; the pointer is never followed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slotheap.h"

#define EXPORT __attribute__((visibility("default")))

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)
#define GIB ((size_t)1 << 30)

/* Defaults: a 32 MiB first region with one slot per 512 bytes of it. Its metadata (slots,
 * buckets and free index, 2.1 MiB) is written when the region is added, so it is resident
 * from the first call on; arena pages become resident only when used. */
#define DEFAULT_SIZE (32 * MIB)
#define DEFAULT_SLOTS ((size_t)65536)
#define DEFAULT_RELEASE MIB
#define MIN_SIZE (64 * KIB)
/* Standard regions stop doubling here; a region made for one large request may be larger,
 * up to what an arena can index (SH_MAX_ARENA_GRANULES granules). */
#define STD_SIZE_CAP (16 * GIB)
#define ARENA_CAP ((size_t)SH_MAX_ARENA_GRANULES * SH_GRANULE)

_Static_assert(SH_MAX_REGIONS >= 1 && SH_MAX_REGIONS <= 32, "region masks are 32 bits");
_Static_assert(sizeof(size_t) == 8, "the preload library is built for 64-bit hosts");

struct settings {
	size_t size;	     /* SLOTHEAP_SIZE: first region's bytes */
	size_t slots;	     /* SLOTHEAP_SLOTS: first region's slots */
	unsigned regions;    /* SLOTHEAP_REGIONS: most regions to make */
	size_t check_every;  /* SLOTHEAP_CHECK: 0 off, 1 at exit, N also every N calls */
	size_t release;	     /* SLOTHEAP_RELEASE: freed blocks this large give pages back */
	char log_path[1024]; /* SLOTHEAP_LOG: append reports here instead of to fd 2 */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sh_heap heap;
static struct settings cfg;
static bool ready;
static int atfork_state; /* 0 not registered, 1 being registered, 2 done */
static size_t page_size;
static size_t mapped_bytes;
static unsigned nregions;    /* regions added (the heap's own count is the core's business) */
static size_t ops;	     /* calls that reached the heap */
static size_t checks;	     /* sh_check runs so far */
static size_t region_fails;  /* regions refused (limit reached or mapping failed) */
static size_t null_returns;  /* allocation calls that returned NULL to the program */
static const char *cur_call; /* the call in progress, for misuse reports */

/* ---- reports: formatted on the stack, one write(2) each ---- */

struct line {
	char buf[512];
	size_t len;
};

static void put_str(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = *s++;
}

static void put_dec(struct line *l, size_t v)
{
	char t[24];
	int n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = t[--n];
}

static void put_hex(struct line *l, uintptr_t v)
{
	char t[2 + 2 * sizeof(v)];
	int n = 0;

	do {
		t[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	put_str(l, "0x");
	while (n && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = t[--n];
}

static void line_start(struct line *l)
{
	l->len = 0;
	put_str(l, "slotheap[");
	put_dec(l, (size_t)syscall(SYS_getpid));
	put_str(l, "]: ");
}

static void line_emit(struct line *l)
{
	int fd = 2;
	int saved = errno;

	l->buf[l->len++] = '\n';
	if (cfg.log_path[0]) {
		long r = syscall(SYS_open, cfg.log_path,
				 O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		fd = r < 0 ? 2 : (int)r;
	}
	for (size_t off = 0; off < l->len;) {
		long w = syscall(SYS_write, fd, l->buf + off, l->len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (fd != 2)
		syscall(SYS_close, fd);
	errno = saved;
}

/* ---- settings ---- */

extern char **environ;
static char proc_env[32768];

/* Reads /proc/self/environ when libc has not set environ up yet (a call made that early). */
static const char *proc_env_get(const char *name, size_t nlen)
{
	static size_t have;
	static bool tried;

	if (!tried) {
		tried = true;
		long fd = syscall(SYS_open, "/proc/self/environ", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			long r;
			while (have < sizeof(proc_env) - 1 &&
			       (r = syscall(SYS_read, (int)fd, proc_env + have,
					    sizeof(proc_env) - 1 - have)) > 0)
				have += (size_t)r;
			syscall(SYS_close, (int)fd);
		}
		proc_env[have] = '\0';
	}
	for (size_t i = 0; i < have; i += strlen(proc_env + i) + 1)
		if (!strncmp(proc_env + i, name, nlen) && proc_env[i + nlen] == '=')
			return proc_env + i + nlen + 1;
	return NULL;
}

static const char *env_get(const char *name)
{
	size_t nlen = strlen(name);

	if (!environ)
		return proc_env_get(name, nlen);
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, name, nlen) && (*e)[nlen] == '=')
			return *e + nlen + 1;
	return NULL;
}

/* "123", "64K", "32M", "2G" (binary multiples). Returns false on anything else or overflow. */
static bool parse_size(const char *s, size_t *out)
{
	size_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (SIZE_MAX - 9) / 10)
			return false;
		v = v * 10 + (size_t)(*p - '0');
	}
	unsigned shift = 0;
	switch (*p) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case '\0':
		break;
	default:
		return false;
	}
	if (shift && *++p)
		return false;
	if (shift && v > (SIZE_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

static void bad_setting(const char *name, const char *val, const char *why, size_t dflt)
{
	struct line l;

	line_start(&l);
	put_str(&l, name);
	put_str(&l, "='");
	put_str(&l, val);
	put_str(&l, "' ");
	put_str(&l, why);
	put_str(&l, "; using ");
	put_dec(&l, dflt);
	line_emit(&l);
}

/* One numeric setting: the default when unset, a report and the default when invalid. */
static size_t setting(const char *name, size_t dflt, size_t lo, size_t hi, const char *range)
{
	const char *v = env_get(name);
	size_t n;

	if (!v)
		return dflt;
	if (!parse_size(v, &n)) {
		bad_setting(name, v, "is not a number (digits, optional K, M or G)", dflt);
		return dflt;
	}
	if (n < lo || n > hi) {
		bad_setting(name, v, range, dflt);
		return dflt;
	}
	return n;
}

static void read_settings(void)
{
	const char *log = env_get("SLOTHEAP_LOG");

	/* The log path is copied: the program may change its environment later. */
	cfg.log_path[0] = '\0';
	if (log && strlen(log) < sizeof(cfg.log_path))
		memcpy(cfg.log_path, log, strlen(log) + 1);
	else if (log)
		bad_setting("SLOTHEAP_LOG", "...", "is longer than 1023 bytes", 2);
	cfg.size = setting("SLOTHEAP_SIZE", DEFAULT_SIZE, MIN_SIZE, STD_SIZE_CAP,
			   "is outside 64K..16G");
	cfg.slots = setting("SLOTHEAP_SLOTS", DEFAULT_SLOTS, 1, SH_MAX_SLOTS,
			    "is outside 1..16777215");
	cfg.regions = (unsigned)setting("SLOTHEAP_REGIONS", SH_MAX_REGIONS, 1, SH_MAX_REGIONS,
					"is outside 1..32");
	cfg.check_every = setting("SLOTHEAP_CHECK", 0, 0, SIZE_MAX, "");
	cfg.release = setting("SLOTHEAP_RELEASE", DEFAULT_RELEASE, 0, SIZE_MAX, "");
	/* The first region must hold its own metadata and leave most of itself for blocks. */
	size_t meta = sh_region_meta_bytes(cfg.slots, cfg.size);
	if (meta > cfg.size / 2) {
		struct line l;
		line_start(&l);
		put_str(&l, "SLOTHEAP_SLOTS=");
		put_dec(&l, cfg.slots);
		put_str(&l, " needs ");
		put_dec(&l, meta);
		put_str(&l, " bytes of metadata, over half of SLOTHEAP_SIZE=");
		put_dec(&l, cfg.size);
		put_str(&l, "; using slots = size / 512");
		line_emit(&l);
		cfg.slots = cfg.size / 512;
	}
}

/* ---- regions ---- */

static size_t pagesize_now(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (size_t)ps : 4096;
}

static void *map_pages(size_t len)
{
	long r = syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	/* The kernel returns -errno in the top page of addresses for a failure. */
	if (r < 0 && r > -4096)
		return NULL;
	return (void *)r;
}

static size_t round_up(size_t v, size_t to)
{
	return (v + to - 1) & ~(to - 1);
}

/* Adds a region that can serve `need` bytes at alignment `align` (a power of two). Returns
 * false when the region limit is reached, the size is beyond what an arena can index, or the
 * kernel refuses the mapping. */
static bool add_region(size_t need, size_t align)
{
	unsigned k = nregions;

	if (k >= cfg.regions) {
		region_fails++;
		return false;
	}
	size_t size = cfg.size, slots = cfg.slots;
	for (unsigned i = 0; i < k && size < STD_SIZE_CAP; i++)
		size *= 2;
	for (unsigned i = 0; i < k && slots * 2 <= SH_MAX_SLOTS; i++)
		slots *= 2;
	if (size > STD_SIZE_CAP)
		size = STD_SIZE_CAP;

	/* The request, its alignment slack and the metadata, which grows with the region (the
	 * free index covers the arena): grow the size until it holds all three. */
	size_t fixed = 2 * SH_GRANULE + (align > SH_GRANULE ? align : 0);
	if (need > ARENA_CAP || fixed > ARENA_CAP || need + fixed > ARENA_CAP) {
		region_fails++;
		return false;
	}
	for (;;) {
		size_t meta = sh_region_meta_bytes(slots, size);
		if (meta == 0 || meta > ARENA_CAP || need + fixed + meta > ARENA_CAP) {
			region_fails++;
			return false;
		}
		if (need + fixed + meta <= size)
			break;
		size = round_up(need + fixed + meta, page_size);
	}

	void *base = map_pages(size);
	if (!base) {
		region_fails++;
		return false;
	}
	if (sh_add_region(&heap, base, size, slots) != SH_OK) {
		syscall(SYS_munmap, base, size);
		region_fails++;
		return false;
	}
	mapped_bytes += size;
	nregions++;
	return true;
}

/* ---- reports of misuse and of checks ---- */

static const char *misuse_meaning(int code)
{
	switch (code) {
	case 0:
		return "not a live block; 0 returned";
	case SH_EFOREIGN:
		return "not allocated by slotheap (outside every region); not followed";
	case SH_EBADPTR:
		return "inside the heap but not the start of a block; ignored";
	case SH_EDOUBLEFREE:
		return "already freed; ignored";
	default:
		return "rejected";
	}
}

static void report_misuse(const char *call, int code, const void *p)
{
	struct line l;

	line_start(&l);
	put_str(&l, "misuse: ");
	put_str(&l, call);
	put_str(&l, "(");
	put_hex(&l, (uintptr_t)p);
	put_str(&l, "): ");
	if (code) {
		put_str(&l, sh_strerror(code));
		put_str(&l, ": ");
	}
	put_str(&l, misuse_meaning(code));
	line_emit(&l);
}

static void on_misuse(void *ctx, int code, const void *p)
{
	(void)ctx;
	report_misuse(cur_call ? cur_call : "?", code, p);
}

static void put_stats(struct line *l)
{
	struct sh_stats s;

	sh_stats(&heap, &s);
	put_str(l, ": ");
	put_dec(l, ops);
	put_str(l, " calls, ");
	put_dec(l, nregions);
	put_str(l, " regions (");
	put_dec(l, mapped_bytes / KIB);
	put_str(l, " KiB mapped), live ");
	put_dec(l, s.live_blocks);
	put_str(l, " blocks ");
	put_dec(l, s.live_bytes);
	put_str(l, " B, free ");
	put_dec(l, s.free_blocks);
	put_str(l, " blocks ");
	put_dec(l, s.free_bytes);
	put_str(l, " B, largest free ");
	put_dec(l, s.largest_free);
	put_str(l, " B, spare slots ");
	put_dec(l, s.slots_spare);
	put_str(l, "/");
	put_dec(l, s.slots_total);
	put_str(l, ", NULL returns ");
	put_dec(l, null_returns);
	put_str(l, ", regions refused ");
	put_dec(l, region_fails);
	put_str(l, ", misuse ");
	put_dec(l, s.misuse);
}

/* Runs sh_check (lock held). Returns true when every invariant holds. */
static bool run_check(const char *when)
{
	struct sh_check_report r;
	struct line l;

	checks++;
	if (sh_check(&heap, &r) == 0)
		return true;
	line_start(&l);
	put_str(&l, "check FAILED ");
	put_str(&l, when);
	put_str(&l, ": ");
	put_str(&l, sh_invariant_name(r.invariant));
	put_str(&l, ", region ");
	put_dec(&l, r.region);
	put_str(&l, ", slot ");
	put_dec(&l, r.slot);
	put_str(&l, ", block ");
	put_hex(&l, r.block);
	put_str(&l, ": ");
	put_str(&l, r.what ? r.what : "?");
	line_emit(&l);
	line_start(&l);
	put_str(&l, "at failure");
	put_stats(&l);
	line_emit(&l);
	return false;
}

/* ---- the lock, initialisation, fork ---- */

static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

static void fork_child(void)
{
	/* The child has one thread, the one that forked and holds the lock. */
	pthread_mutex_unlock(&lock);
}

static void init_locked(void)
{
	page_size = pagesize_now();
	sh_init(&heap);
	sh_set_error_hook(&heap, on_misuse, NULL);
	read_settings();
	ready = true;
}

/* Takes the lock, initialising on the first call; counts the call and runs the periodic
 * check. */
static void enter(const char *call)
{
	pthread_mutex_lock(&lock);
	if (!ready)
		init_locked();
	cur_call = call;
	ops++;
	if (cfg.check_every > 1 && ops % cfg.check_every == 0 && !run_check("during the run")) {
		pthread_mutex_unlock(&lock);
		abort();
	}
}

static void leave(void)
{
	cur_call = NULL;
	pthread_mutex_unlock(&lock);
	/* Registered outside the lock (registration may allocate, which re-enters here) and
	 * once; a call from inside the registration sees state 1 and goes on. */
	int expect = 0;
	if (__atomic_compare_exchange_n(&atfork_state, &expect, 1, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		__atomic_store_n(&atfork_state, 2, __ATOMIC_RELEASE);
	}
}

/* ---- allocation with growth (lock held) ---- */

/* Gives the whole pages inside a freed block back to the kernel; the block stays free in the
 * heap (metadata is out of band, so nothing in those pages is needed). */
static void release_pages(void *p, size_t size)
{
	if (!cfg.release || size < cfg.release)
		return;
	uintptr_t lo = round_up((uintptr_t)p, page_size);
	uintptr_t hi = ((uintptr_t)p + size) & ~(uintptr_t)(page_size - 1);
	if (hi > lo)
		syscall(SYS_madvise, (void *)lo, hi - lo, MADV_DONTNEED);
}

/* align 0: plain malloc; else a power of two. Adds regions while the heap is full. */
static void *alloc_locked(size_t align, size_t size)
{
	if (align <= SH_GRANULE)
		align = 0; /* every block is granule aligned: no need for the aligned search */
	for (;;) {
		void *p = align ? sh_memalign(&heap, align, size) : sh_malloc(&heap, size);
		if (p)
			return p;
		if (sh_last_error(&heap) != SH_ENOMEM || !add_region(size, align))
			return NULL;
	}
}

static void *alloc_call(const char *call, size_t align, size_t size)
{
	enter(call);
	void *p = alloc_locked(align, size);
	if (!p)
		null_returns++;
	leave();
	if (!p)
		errno = ENOMEM;
	return p;
}

static size_t next_pow2(size_t v)
{
	size_t p = 1;

	while (p < v && p <= SIZE_MAX / 2)
		p <<= 1;
	return p >= v ? p : 0;
}

/* ---- the interface ---- */

EXPORT void *malloc(size_t size)
{
	return alloc_call("malloc", 0, size);
}

EXPORT void free(void *p)
{
	if (!p)
		return;
	int saved = errno;
	enter("free");
	size_t size = cfg.release ? sh_usable_size(&heap, p) : 0;
	if (sh_free(&heap, p) == SH_OK)
		release_pages(p, size);
	leave();
	errno = saved;
}

EXPORT void *calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = n * size;
	unsigned char *p = alloc_call("calloc", 0, len);
	if (!p)
		return NULL;
	/* A large block is zeroed by giving its whole pages back (they read as zeros when next
	 * touched, as fresh anonymous memory does), so a large calloc that the program uses
	 * sparsely stays sparse. The block is the caller's alone: no lock is needed. */
	uintptr_t lo = round_up((uintptr_t)p, page_size);
	uintptr_t hi = ((uintptr_t)p + len) & ~(uintptr_t)(page_size - 1);
	if (cfg.release && len >= cfg.release && hi > lo &&
	    syscall(SYS_madvise, (void *)lo, hi - lo, MADV_DONTNEED) == 0) {
		memset(p, 0, lo - (uintptr_t)p);
		memset((void *)hi, 0, (uintptr_t)p + len - hi);
	} else {
		memset(p, 0, len);
	}
	return p;
}

static void *realloc_call(const char *call, void *p, size_t size)
{
	if (!p)
		return alloc_call(call, 0, size);
	enter(call);
	size_t old = sh_usable_size(&heap, p);
	void *q = sh_realloc(&heap, p, size);
	int err = 0;
	if (!q && size) {
		if (sh_last_error(&heap) == SH_ENOMEM && old) {
			/* Full: a region that fits the new size, then once more (p is intact). */
			while (!q && sh_last_error(&heap) == SH_ENOMEM && add_region(size, 0))
				q = sh_realloc(&heap, p, size);
		}
		err = old ? ENOMEM : EINVAL;
		null_returns += !q;
	}
	if (q && q != p)
		release_pages(p, old);
	else if (!q && !size && old)
		release_pages(p, old);
	leave();
	if (!q && size)
		errno = err;
	return q;
}

EXPORT void *realloc(void *p, size_t size)
{
	return realloc_call("realloc", p, size);
}

EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc_call("reallocarray", p, n * size);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	int saved = errno;
	void *p = alloc_call("posix_memalign", align, size);
	errno = saved;
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (!align || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return alloc_call("aligned_alloc", align, size);
}

EXPORT void *memalign(size_t align, size_t size)
{
	size_t a = next_pow2(align ? align : 1);

	if (!a) {
		errno = EINVAL;
		return NULL;
	}
	return alloc_call("memalign", a, size);
}

EXPORT void *valloc(size_t size)
{
	return alloc_call("valloc", pagesize_now(), size);
}

EXPORT void *pvalloc(size_t size)
{
	size_t ps = pagesize_now();

	if (size > SIZE_MAX - (ps - 1)) {
		errno = ENOMEM;
		return NULL;
	}
	size = size ? round_up(size, ps) : ps;
	return alloc_call("pvalloc", ps, size);
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	enter("malloc_usable_size");
	size_t n = sh_usable_size(&heap, p);
	if (!n)
		report_misuse("malloc_usable_size", 0, p);
	leave();
	return n;
}

/* SLOTHEAP_CHECK: a destructor, so it runs after the program's atexit handlers and its own
 * destructors, and before stdio's final flush; other libraries' destructors run before or
 * after it in the loader's order (what they free later is freed, not checked). It prints
 * with write(2) only. */
__attribute__((destructor)) static void exit_check(void)
{
	if (!cfg.check_every && ready)
		return;
	pthread_mutex_lock(&lock);
	if (!ready)
		init_locked();
	if (cfg.check_every && run_check("at exit")) {
		struct line l;
		line_start(&l);
		put_str(&l, "exit check clean (");
		put_dec(&l, checks);
		put_str(&l, " checks)");
		put_stats(&l);
		line_emit(&l);
	}
	pthread_mutex_unlock(&lock);
}
