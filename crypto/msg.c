// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypto/msg.c - error messages for callers that say "why" in words.
 * Never pass a secret as an argument: messages reach logs and terminals.
 */
#include <stdarg.h>
#include <stdio.h>

#include "msg.h"

int msg_fail(char *msg, size_t msglen, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return err;
}
