/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tests/unit/unit.h - helpers shared by the cmocka unit tests.
 */
#ifndef ATR_UNIT_H
#define ATR_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wiped or never written: every byte zero. */
static inline bool all_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

#endif
