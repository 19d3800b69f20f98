// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/fuzz_hdrbak.c - a header backup ("atrestfs header backup
 * v1", docs/format.md §13) as "header restore" reads it: split into
 * lines, the first one a head line, the others file lines.  A file line
 * that parses must format back to a line that parses to the same entry,
 * whose path is relative with no "." or ".." component.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/hdrbak.h"
#include "fuzz.h"

static void same(const struct hdrbak_entry *a, const struct hdrbak_entry *b)
{
	if (strcmp(a->path, b->path) || a->backing != b->backing ||
	    memcmp(a->hdr, b->hdr, HDR_SIZE) ||
	    a->has_sparse != b->has_sparse || a->has_ver != b->has_ver ||
	    (a->has_sparse && memcmp(a->sparse, b->sparse, sizeof(a->sparse))) ||
	    (a->has_ver && memcmp(a->ver, b->ver, sizeof(a->ver))))
		abort();
}

static void file_line(const char *line)
{
	static struct hdrbak_entry e, again;
	static char out[HDRBAK_LINE_MAX];
	size_t n;

	if (hdrbak_parse(line, &e))
		return;
	if (e.path[0] == '/' || !e.path[0])
		abort();
	if (hdrbak_format(&e, out, sizeof(out)))
		abort();
	n = strlen(out);
	if (!n || out[n - 1] != '\n')
		abort();
	out[n - 1] = '\0';
	if (hdrbak_parse(out, &again))
		abort();
	same(&e, &again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size), *line, *nl;
	uint8_t uuid[VOL_UUID_LEN], kek_id[KEK_ID_LEN];
	bool first = true;

	for (line = text; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (first)
			(void)hdrbak_head_parse(line, uuid, kek_id);
		else
			file_line(line);
		first = false;
	}
	free(text);
	return 0;
}
