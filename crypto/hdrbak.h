/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/hdrbak.h - the text of a header backup ("atrestfs header
 * backup"): every regular file's header and its sparse and version
 * records, keyed by the file's path in the volume, so that they can be
 * put back after a copy that lost the xattrs (docs/format.md §13).
 * Works on strings; the caller reads and writes the file.
 */
#ifndef ATR_HDRBAK_H
#define ATR_HDRBAK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hdr.h"
#include "verrec.h"
#include "volume.h"

#define HDRBAK_MAGIC	"atrestfs header backup v1"
/* Longest line: fields, and a path of PATH_MAX bytes all escaped. */
#define HDRBAK_LINE_MAX	(512 + 4 * PATH_MAX)

struct hdrbak_entry {
	char path[PATH_MAX];		/* relative, no "." or ".." component */
	uint64_t backing;		/* the file's size when backed up */
	uint8_t hdr[HDR_SIZE];
	uint8_t sparse[EXTENT_SPARSE_LEN];
	bool has_sparse;
	uint8_t ver[VERREC_LEN];
	bool has_ver;
};

/* The first line, for the volume @uuid of KEK @kek_id, "\n" included. */
int hdrbak_head(const uint8_t uuid[VOL_UUID_LEN],
		const uint8_t kek_id[KEK_ID_LEN], char *out, size_t len);
/* 0 if @line (no "\n") is a first line; fills @uuid and @kek_id. */
int hdrbak_head_parse(const char *line, uint8_t uuid[VOL_UUID_LEN],
		      uint8_t kek_id[KEK_ID_LEN]);
/* One file's line into @out (HDRBAK_LINE_MAX bytes), "\n" included. */
int hdrbak_format(const struct hdrbak_entry *e, char *out, size_t len);
/* @line (no "\n") into @e: 0, or -EINVAL for anything malformed. */
int hdrbak_parse(const char *line, struct hdrbak_entry *e);

#endif
