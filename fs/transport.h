/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/transport.h - what a handler may ask of the transport that carried
 * its request, and nothing more: the handlers and the data path never ask
 * which transport that was, as libfuse's fuse_uring.c stays invisible to
 * its handlers.
 *
 * Implemented by fs/uring.c.  /dev/fuse (libfuse's own loop) needs none of
 * this, so off a ring thread each call gives the neutral answer: no buffer,
 * no hint, nothing to keep free.
 */
#ifndef ATR_TRANSPORT_H
#define ATR_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Where a reply of up to @size bytes to the request this thread serves
 * can be built so that the transport sends it without a copy, or NULL.
 * Valid until the handler replies.
 */
void *xport_reply_buf(size_t size);

/*
 * Is this thread pinned to the CPU of the process that made its request?
 * Then that CPU also copies the reply to the caller, and CPU-bound work
 * that other threads can do is better left to them.
 */
bool xport_offload_hint(void);

/*
 * Around anything that waits for the kernel to send and finish requests of
 * its own (a notification that writes pages back): keeps the transport
 * able to serve them while this thread waits.  begin() returns false when
 * it could not (the daemon is stopping): the caller must not wait then;
 * end() is called either way.
 */
bool xport_nested_begin(void);
void xport_nested_end(void);

#endif
