/* SPDX-License-Identifier: MIT */
/*
 * Plain replay driver: links with any one fuzz target (its LLVMFuzzerTestOneInput) and runs
 * files and directories of inputs through it, with any compiler and no fuzzing engine.
 *
 *   replay [-n] [-q] [-t seconds] path...
 *
 * Directories are read recursively in name order; text companions (*.trace, *.md, *.txt,
 * *.dict, *.options, README*) and hidden files are skipped. The inputs run in a child
 * process; if one crashes, that input fails and a new child goes on with the next (-n: run
 * everything in-process, for a debugger). An input that runs longer than -t seconds (default
 * 60, 0 for no limit) fails as timed out, so a parser that loops fails instead of hanging.
 *
 * What the target prints while an input runs (its failure report, a sanitizer's) is kept
 * aside and printed only if that input fails, whole, as one block:
 *
 *	input: <path>
 *	<everything the target printed for it>
 *	FAIL <path>: <signal, exit status or time-out>
 *
 * so several failures never interleave. The last line is "N passed, N failed"; exits 1 if
 * any input failed. -n prints "input: <path>" before each input and lets output through.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_fork;
static int quiet;
static unsigned timeout_s = 60;
static unsigned long passed, failed;
static int run_out = -1; /* the real stdout, for RUN lines, while a child captures output */

static int skipped_name(const char *name)
{
	static const char *const ext[] = {".trace", ".md", ".txt", ".dict", ".options", ".svg"};
	size_t n = strlen(name);

	if (name[0] == '.' || strncmp(name, "README", 6) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t e = strlen(ext[i]);

		if (n > e && strcmp(name + n - e, ext[i]) == 0)
			return 1;
	}
	return 0;
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;

	if (!f)
		return -1;
	for (;;) {
		size_t got;

		if (len == cap) {
			uint8_t *n = realloc(buf, cap ? cap * 2 : 4096);

			if (!n) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = n;
			cap = cap ? cap * 2 : 4096;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*data = buf;
	*size = len;
	return 0;
}

/* Every input named on the command line, directories expanded, in order. */
static char **inputs;
static size_t ninputs, inputs_cap;

static void add_input(const char *path)
{
	if (ninputs == inputs_cap) {
		size_t cap = inputs_cap ? inputs_cap * 2 : 256;
		char **n = realloc(inputs, cap * sizeof(*n));

		if (!n) {
			fprintf(stderr, "replay: out of memory\n");
			exit(2);
		}
		inputs = n;
		inputs_cap = cap;
	}
	inputs[ninputs] = strdup(path);
	if (!inputs[ninputs]) {
		fprintf(stderr, "replay: out of memory\n");
		exit(2);
	}
	ninputs++;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(const char *path)
{
	struct stat st;
	DIR *dir;
	struct dirent *e;
	size_t first = ninputs;

	if (stat(path, &st) != 0) {
		printf("FAIL %s: no such file\n", path);
		failed++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_input(path);
		return;
	}
	dir = opendir(path);
	if (!dir) {
		printf("FAIL %s: cannot open\n", path);
		failed++;
		return;
	}
	while ((e = readdir(dir)) != NULL) {
		char *full;

		if (skipped_name(e->d_name))
			continue;
		full = malloc(strlen(path) + strlen(e->d_name) + 2);
		if (!full)
			break;
		sprintf(full, "%s/%s", path, e->d_name);
		add_input(full);
		free(full);
	}
	closedir(dir);
	qsort(inputs + first, ninputs - first, sizeof(*inputs), cmp_names);
	/* Expand the subdirectories found, in place of their entries. */
	for (size_t i = first; i < ninputs; i++) {
		if (stat(inputs[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			char *sub = inputs[i];

			memmove(&inputs[i], &inputs[i + 1],
				(ninputs - i - 1) * sizeof(*inputs));
			ninputs--;
			collect(sub);
			free(sub);
			i--;
		}
	}
}

/* Runs input i; returns 0, or -1 if it cannot be read. */
static int run_input(size_t i)
{
	uint8_t *data;
	size_t size;

	if (read_file(inputs[i], &data, &size) != 0)
		return -1;
	if (!quiet && run_out >= 0) {
		dprintf(run_out, "RUN  %s (%zu bytes)\n", inputs[i], size);
	} else if (!quiet) {
		printf("RUN  %s (%zu bytes)\n", inputs[i], size);
		fflush(stdout);
	}
	if (no_fork) {
		fprintf(stderr, "input: %s\n", inputs[i]);
		fflush(stderr);
	}
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

/* Copies what the child wrote to the capture file cap to stdout. */
static void print_captured(int cap)
{
	char buf[4096];
	ssize_t got;
	int nl = 1;

	fflush(stdout);
	if (lseek(cap, 0, SEEK_SET) < 0)
		return;
	for (;;) {
		got = read(cap, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		fwrite(buf, 1, (size_t)got, stdout);
		nl = buf[got - 1] == '\n';
	}
	if (!nl)
		putchar('\n');
}

/* One failure, whole: the input's path, what the target printed, the verdict. */
static void report_failure(int cap, const char *path, const char *verdict, int value)
{
	printf("input: %s\n", path);
	print_captured(cap);
	printf("FAIL %s: %s %d%s\n", path, verdict, value,
	       strcmp(verdict, "timed out after") == 0 ? " s" : "");
	fflush(stdout);
}

/* A file that only this process and its children can reach, for the target's output. */
static int capture_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/replay-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/*
 * The inputs run in one child process, which reports each input it finished through a
 * pipe. When the child dies, the input after the last one reported failed; a new child
 * carries on with the next. So a crash costs one fork, not every input. The child's stdout
 * and stderr go to a capture file, emptied before each input; the parent prints it when that
 * input fails.
 */
static void run_all(void)
{
	size_t next = 0;
	int cap = capture_file();

	if (cap < 0) {
		printf("FAIL %s: cannot create a capture file\n", ninputs ? inputs[0] : "-");
		failed += ninputs;
		return;
	}
	while (next < ninputs) {
		int fd[2], status;
		pid_t pid;
		size_t done = next, got;
		uint32_t idx;

		fflush(stdout);
		fflush(stderr);
		if (pipe(fd) != 0 || (pid = fork()) < 0) {
			printf("FAIL %s: cannot run\n", inputs[next]);
			failed += ninputs - next;
			break;
		}
		if (pid == 0) {
			close(fd[0]);
			run_out = dup(1);
			if (run_out < 0 || dup2(cap, 1) < 0 || dup2(cap, 2) < 0)
				_exit(5);
			setvbuf(stdout, NULL, _IONBF, 0);
			for (size_t i = next; i < ninputs; i++) {
				if (ftruncate(cap, 0) != 0 || lseek(cap, 0, SEEK_SET) < 0)
					_exit(5);
				alarm(timeout_s);
				if (run_input(i) != 0) {
					printf("cannot read %s\n", inputs[i]);
					_exit(3);
				}
				idx = (uint32_t)i;
				if (write(fd[1], &idx, sizeof(idx)) != sizeof(idx))
					_exit(4);
			}
			/* exit, not _exit: coverage and leak checking run at exit. What they
			 * print goes with the last input's output. */
			exit(0);
		}
		close(fd[1]);
		while ((got = (size_t)read(fd[0], &idx, sizeof(idx))) == sizeof(idx))
			done = (size_t)idx + 1;
		close(fd[0]);
		waitpid(pid, &status, 0);
		passed += done - next;
		if (done == ninputs && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			break;
		if (done == ninputs) {
			/* Everything ran, then the exit (leak check, say) failed. */
			if (WIFEXITED(status))
				report_failure(cap, inputs[done - 1],
					       "after the last input, exit status",
					       WEXITSTATUS(status));
			else
				report_failure(cap, inputs[done - 1],
					       "after the last input, signal",
					       WTERMSIG(status));
			passed--;
			failed++;
			break;
		}
		failed++;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
			report_failure(cap, inputs[done], "timed out after", (int)timeout_s);
		else if (WIFSIGNALED(status))
			report_failure(cap, inputs[done], "signal", WTERMSIG(status));
		else
			report_failure(cap, inputs[done], "exit status", WEXITSTATUS(status));
		next = done + 1;
	}
	close(cap);
}

static void run_in_process(void)
{
	for (size_t i = 0; i < ninputs; i++) {
		if (run_input(i) != 0) {
			printf("FAIL %s: cannot read\n", inputs[i]);
			failed++;
		} else {
			passed++;
		}
	}
}

int main(int argc, char **argv)
{
	int i = 1;
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-n") == 0) {
			no_fork = 1;
		} else if (strcmp(argv[i], "-q") == 0) {
			quiet = 1;
		} else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			timeout_s = (unsigned)strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: %s [-n] [-q] [-t seconds] file|dir...\n", name);
			return 2;
		}
	}
	if (i == argc) {
		fprintf(stderr, "usage: %s [-n] [-q] [-t seconds] file|dir...\n", name);
		return 2;
	}
	for (; i < argc; i++)
		collect(argv[i]);
	if (no_fork)
		run_in_process();
	else
		run_all();
	for (size_t k = 0; k < ninputs; k++)
		free(inputs[k]);
	free(inputs);
	printf("%s: %lu passed, %lu failed\n", name, passed, failed);
	return failed ? 1 : 0;
}
