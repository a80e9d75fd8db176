/* SPDX-License-Identifier: MIT */
/*
 * Plain replay driver: links with any one fuzz target (its LLVMFuzzerTestOneInput) and runs
 * files and directories of inputs through it, with any compiler and no fuzzing engine.
 *
 *   replay [-n] [-q] path...
 *
 * Directories are read recursively in name order; text companions (*.trace, *.md, *.txt,
 * *.dict, *.options, README*) and hidden files are skipped. Each input runs in a child process,
 * so a crash fails that input only and the run goes on (-n: run in-process, for a debugger).
 * Prints one line per failure and a final "N passed, N failed"; exits 1 if any failed.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
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
static unsigned long passed, failed;

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

static void run_one(const char *path)
{
	uint8_t *data;
	size_t size;
	pid_t pid;
	int status;

	if (read_file(path, &data, &size) != 0) {
		printf("FAIL %s: cannot read\n", path);
		failed++;
		return;
	}
	if (!quiet)
		printf("RUN  %s (%zu bytes)\n", path, size);
	fflush(stdout);
	if (no_fork) {
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		passed++;
		return;
	}
	pid = fork();
	if (pid == 0) {
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		/* exit, not _exit: coverage and leak checking run at exit. */
		exit(0);
	}
	free(data);
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		printf("FAIL %s: cannot run\n", path);
		failed++;
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		passed++;
		return;
	}
	failed++;
	if (WIFSIGNALED(status))
		printf("FAIL %s: signal %d\n", path, WTERMSIG(status));
	else
		printf("FAIL %s: exit status %d\n", path, WEXITSTATUS(status));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path)
{
	struct stat st;
	DIR *dir;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (stat(path, &st) != 0) {
		printf("FAIL %s: no such file\n", path);
		failed++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		run_one(path);
		return;
	}
	dir = opendir(path);
	if (!dir) {
		printf("FAIL %s: cannot open\n", path);
		failed++;
		return;
	}
	while ((e = readdir(dir)) != NULL) {
		if (skipped_name(e->d_name))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 64) * sizeof(*nn));

			if (!nn)
				break;
			names = nn;
			cap = cap ? cap * 2 : 64;
		}
		names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
		if (!names[n])
			break;
		sprintf(names[n], "%s/%s", path, e->d_name);
		n++;
	}
	closedir(dir);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		run_path(names[i]);
		free(names[i]);
	}
	free(names);
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
		} else {
			fprintf(stderr, "usage: %s [-n] [-q] file|dir...\n", name);
			return 2;
		}
	}
	if (i == argc) {
		fprintf(stderr, "usage: %s [-n] [-q] file|dir...\n", name);
		return 2;
	}
	for (; i < argc; i++)
		run_path(argv[i]);
	printf("%s: %lu passed, %lu failed\n", name, passed, failed);
	return failed ? 1 : 0;
}
