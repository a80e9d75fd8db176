/* SPDX-License-Identifier: MIT */
/*
 * sh-trace: the text side of the ops input format (fuzz/opdecode.h, fuzz/README.md).
 *
 *   sh-trace [--boot] text FILE             print FILE (fuzz input bytes or a trace) as a trace
 *   sh-trace bytes FILE OUT        write the fuzz input bytes of FILE to OUT
 *   sh-trace run [options] FILE    run FILE step by step on allocator and model, with every
 *                                  check the fuzzers make
 *       -q           do not print each step
 *       --at N       print the heap after step N (repeatable; "end" for the last step)
 *       --svg OUT    draw the heap as an SVG picture at the last --at step (default: at the
 *                    end, or where a check failed)
 *
 * FILE is read as a trace if it ends in .trace or reads as one, else as fuzz input bytes;
 * bytes decode exactly as the ops_differential target decodes them (at most OPS_MAX_OPS ops).
 * --boot (or a path naming boot_differential) reads input bytes in the boot format
 * (fuzz/bootdecode.h); a trace with a "boot" line is a boot trace.
 * Exit status: 0 ok, 1 a check failed (the report is on stderr), 2 bad usage or input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootdecode.h"
#include "diffheap.h"
#include "opdecode.h"

struct input {
	bool boot; /* boot_differential input: bi instead of layout */
	struct boot_input bi;
	struct ops_layout layout;
	struct ops_op *ops;
	size_t nops;
};

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		perror(path);
		return NULL;
	}
	for (;;) {
		if (n + 1 >= cap) {
			unsigned char *nb = realloc(buf, cap ? cap * 2 : 4096);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static bool looks_like_trace(const char *path, const unsigned char *buf, size_t len)
{
	size_t n = strlen(path);
	const char *p = (const char *)buf;

	if (n > 6 && strcmp(path + n - 6, ".trace") == 0)
		return true;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n' && buf[i] != '\t' && buf[i] != '\r' &&
		    (buf[i] < 32 || buf[i] > 126))
			return false;
	}
	while (*p == ' ' || *p == '\n' || *p == '\t')
		p++;
	return *p == '#' || strncmp(p, "layout", 6) == 0 || strncmp(p, "region", 6) == 0 ||
	       strncmp(p, "boot", 4) == 0;
}

static int parse_trace(const char *path, char *text, struct input *in)
{
	size_t cap = 0, lineno = 0;
	char *line = text;

	memset(&in->layout, 0, sizeof(in->layout));
	while (line && *line) {
		char *nl = strchr(line, '\n');
		char err[160];
		struct ops_op op;
		int rc;

		if (nl)
			*nl = 0;
		lineno++;
		rc = boot_parse_line(line, &in->bi, err, sizeof(err));
		if (rc == 2)
			in->boot = true;
		else if (rc == 0)
			rc = ops_parse_line(line, &in->layout, &op, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "%s:%zu: %s\n", path, lineno, err);
			return -1;
		}
		if (rc == 1) {
			if (in->nops == cap) {
				struct ops_op *n =
					realloc(in->ops, (cap ? cap * 2 : 256) * sizeof(*n));

				if (!n)
					return -1;
				in->ops = n;
				cap = cap ? cap * 2 : 256;
			}
			in->ops[in->nops++] = op;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (in->layout.nregions == 0 && !in->boot) {
		fprintf(stderr, "%s: no region or boot line\n", path);
		return -1;
	}
	return 0;
}

static bool force_boot;

static int load(const char *path, struct input *in)
{
	size_t len;
	unsigned char *buf = slurp(path, &len);
	int rc = 0;

	memset(in, 0, sizeof(*in));
	if (!buf)
		return -1;
	if (looks_like_trace(path, buf, len)) {
		rc = parse_trace(path, (char *)buf, in);
	} else {
		in->ops = calloc(OPS_MAX_OPS, sizeof(*in->ops));
		in->boot = force_boot || strstr(path, "boot_differential") != NULL;
		if (!in->ops) {
			rc = -1;
		} else if (in->boot) {
			size_t used = boot_decode(buf, len, &in->bi);

			in->nops = ops_decode_ops(buf + used, boot_ops_bytes(buf, len, used),
						  in->ops, OPS_MAX_OPS);
		} else {
			in->nops = ops_decode(buf, len, &in->layout, in->ops, OPS_MAX_OPS);
		}
	}
	free(buf);
	return rc;
}

static void print_trace(const struct input *in, FILE *f, const char *source)
{
	char line[160];

	fprintf(f, "# slotheap %s trace (fuzz/README.md)%s%s\n", in->boot ? "boot" : "ops",
		source ? ", from " : "", source ? source : "");
	if (in->boot)
		boot_format(&in->bi, f);
	else
		ops_format_layout(&in->layout, f);
	for (size_t i = 0; i < in->nops; i++) {
		ops_format_op(&in->ops[i], line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
}

static int write_bytes(const struct input *in, const char *out)
{
	size_t cap = 16 + BOOT_HEADER_BYTES + BOOT_MAX_TABLE + in->nops * 8 +
		     BOOT_OPTS_MARKER_LEN + 1 + BOOT_MAX_OPTS,
	       n, used;
	unsigned char *buf = malloc(cap);
	FILE *f;

	if (!buf)
		return 2;
	n = in->boot ? boot_encode(&in->bi, buf, cap)
		     : ops_encode_layout(&in->layout, buf, cap);
	if (n == 0) {
		fprintf(stderr, "layout has no byte encoding\n");
		free(buf);
		return 2;
	}
	used = n;
	for (size_t i = 0; i < in->nops; i++) {
		size_t k = ops_encode_op(&in->ops[i], buf + n, cap - n);

		if (k == 0) {
			fprintf(stderr, "op %zu has no byte encoding\n", i);
			free(buf);
			return 2;
		}
		n += k;
	}
	if (in->boot) {
		/* The options section follows the operations, which must not hold its marker. */
		size_t ops_bytes = n - used, k = boot_encode_opts(&in->bi, buf + n, cap - n);

		if (k == (size_t)-1 || boot_ops_bytes(buf, n + k, used) != ops_bytes) {
			fprintf(stderr,
				"options have no byte encoding after these operations\n");
			free(buf);
			return 2;
		}
		n += k;
	}
	if (in->nops > OPS_MAX_OPS)
		fprintf(stderr, "note: %zu ops; the fuzz targets run only the first %d\n",
			in->nops, OPS_MAX_OPS);
	f = fopen(out, "wb");
	if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
		perror(out);
		free(buf);
		return 2;
	}
	free(buf);
	return 0;
}

static void draw(struct diffheap *d, const char *svg, const char *path, size_t step)
{
	FILE *f = fopen(svg, "w");
	char title[256];

	if (!f) {
		perror(svg);
		return;
	}
	snprintf(title, sizeof(title), "%s after %zu step%s", path, step, step == 1 ? "" : "s");
	dh_svg(d, f, title);
	fclose(f);
	printf("picture: %s\n", svg);
}

#define MAX_AT 64

static int run(int argc, char **argv)
{
	bool quiet = false, at_end = false;
	long at[MAX_AT];
	int nat = 0, rc = 0;
	const char *svg = NULL, *path = NULL;
	struct input in;
	struct diffheap *d;
	long svg_at = -1;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-q") == 0) {
			quiet = true;
		} else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
			if (strcmp(argv[++i], "end") == 0)
				at_end = true;
			else if (nat < MAX_AT)
				at[nat++] = strtol(argv[i], NULL, 0);
		} else if (strcmp(argv[i], "--svg") == 0 && i + 1 < argc) {
			svg = argv[++i];
		} else if (argv[i][0] != '-' && !path) {
			path = argv[i];
		} else {
			fprintf(stderr, "sh-trace run: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "sh-trace run: no input\n");
		return 2;
	}
	if (load(path, &in)) {
		free(in.ops);
		return 2;
	}
	if (nat && !at_end)
		svg_at = at[nat - 1];
	d = dh_new(in.boot ? BOOT_POOL_BYTES : DH_OPS_POOL_BYTES);
	if (!d)
		return 2;
	dh_set_abort(d, false);
	dh_set_label(d, path);
	if (!quiet)
		dh_set_trace(d, stdout);
	if (!quiet) {
		struct input hdr = in;

		hdr.nops = 0;
		print_trace(&hdr, stdout, path);
		printf("%5s  %-40s -> %s\n", "step", "operation", "result");
	}
	if (in.boot) {
		int b = boot_setup(d, &in.bi);

		if (b == 1) {
			printf("%s: the input gives no heap; nothing to run\n", path);
			goto out;
		}
		if (b != 0) {
			rc = 1;
			goto out;
		}
	} else if (dh_setup(d, &in.layout) != 0) {
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < in.nops; i++) {
		if (dh_step(d, &in.ops[i]) != 0) {
			rc = 1;
			break;
		}
		for (int k = 0; k < nat; k++) {
			if (at[k] == (long)i) {
				printf("---- heap after step %zu ----\n", i);
				dh_dump(d, stdout);
			}
		}
		if (svg && svg_at == (long)i)
			draw(d, svg, path, i + 1);
	}
	if (rc == 0 && dh_finish(d) != 0)
		rc = 1;
	if (at_end && rc == 0) {
		printf("---- heap at the end ----\n");
		dh_dump(d, stdout);
	}
	if (svg && (svg_at < 0 || rc != 0))
		draw(d, svg, path, dh_steps(d));
	printf("%s: %zu steps, %zu live blocks, %s\n", path, dh_steps(d), dh_live_count(d),
	       rc ? "FAILED" : "all checks passed");
out:
	dh_delete(d);
	free(in.ops);
	return rc;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: sh-trace [--boot] text FILE\n"
		"       sh-trace [--boot] bytes FILE OUT\n"
		"       sh-trace [--boot] run [-q] [--at N|end]... [--svg OUT.svg] FILE\n"
		"--boot reads input bytes as boot_differential inputs (the default when\n"
		"the path names that target); traces say which they are.\n");
}

int main(int argc, char **argv)
{
	struct input in;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--boot") == 0) {
			force_boot = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(argv[0]));
			argc--;
			i--;
		}
	}
	if (argc >= 3 && strcmp(argv[1], "text") == 0) {
		if (load(argv[2], &in)) {
			free(in.ops);
			return 2;
		}
		print_trace(&in, stdout, argv[2]);
		free(in.ops);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "bytes") == 0) {
		if (load(argv[2], &in)) {
			free(in.ops);
			return 2;
		}
		rc = write_bytes(&in, argv[3]);
		free(in.ops);
		return rc;
	}
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return run(argc - 2, argv + 2);
	usage();
	return 2;
}
