/* SPDX-License-Identifier: MIT */
/*
 * A stand-in fuzz target for tests/replay_format.sh, linked with fuzz/replay_main.c: what it
 * does depends on the input's first word, so the test can make inputs pass, crash, exit or
 * hang, each printing to stdout and stderr in several pieces as real reports do.
 *
 *   ok ...     prints a line to stdout and to stderr, returns
 *   abort ...  prints three lines to stderr and one to stdout, one write each, then aborts
 *   exit ...   prints a line, exits with status 7
 *   hang ...   loops until the replay driver's time limit stops it
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int starts(const uint8_t *data, size_t size, const char *word)
{
	size_t n = strlen(word);

	return size >= n && memcmp(data, word, n) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int len = size > 40 ? 40 : (int)size;

	if (starts(data, size, "ok")) {
		printf("probe stdout: passing input\n");
		fprintf(stderr, "probe stderr: passing input\n");
	} else if (starts(data, size, "abort")) {
		fprintf(stderr, "probe report begins: %.*s\n", len, (const char *)data);
		fflush(stderr);
		printf("probe stdout: in the middle of the report\n");
		fflush(stdout);
		fprintf(stderr, "probe report line 2\n");
		fprintf(stderr, "probe report ends\n");
		abort();
	} else if (starts(data, size, "exit")) {
		fprintf(stderr, "probe exits with status 7\n");
		exit(7);
	} else if (starts(data, size, "hang")) {
		for (volatile unsigned long i = 0;; i++)
			;
	}
	return 0;
}
