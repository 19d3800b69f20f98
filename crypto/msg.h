/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto/msg.h - one-sentence error messages into a caller's buffer, the
 * way every layer below the command line reports why it failed.
 */
#ifndef ATR_MSG_H
#define ATR_MSG_H

#include <stddef.h>

/* Format into @msg (@msglen bytes, caller's) and return @err. */
int msg_fail(char *msg, size_t msglen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
