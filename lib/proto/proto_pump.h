#ifndef PROTO_PUMP_H_
#define PROTO_PUMP_H_

/*
 * The pump: moves bytes between a plaintext descriptor and an encrypted
 * socket once a handshake has given a session, encrypting one way and
 * decrypting the other.
 *
 * Each direction reads a large chunk (up to 64 KiB of plaintext, or 64
 * packets), transforms all of it with one call, and writes it with one
 * write; it reads again only once its output is flushed, so memory per
 * connection is bounded and a slow reader slows its writer (back
 * pressure).  Descriptors are watched edge-triggered and registered once,
 * so a busy connection costs no epoll_ctl calls.
 *
 * Each direction ends when its source reaches end of file and its output
 * is flushed: the pump then shuts down the writing side of its
 * destination (half-close) and the other direction carries on.  The
 * connection is finished when both directions have ended.  An encrypted
 * stream that ends inside a packet, or any bad packet, read or write
 * error, ends the whole connection as a failure.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto_crypt.h"

struct event_base;
struct proto_pump;

/**
 * proto_pump_start(base, plain, wire, s, callback, cookie):
 * Pump data between the non-blocking sockets ${plain} (cleartext) and
 * ${wire} (encrypted with the session ${s}, whose ownership passes to the
 * pump) within the event loop ${base}.  When the connection is finished,
 * ${callback}(${cookie}, status) is called once, with status 0 when both
 * directions ended cleanly and -1 on any failure; the callback may free
 * the pump with proto_pump_free.  The descriptors stay owned by the
 * caller (the pump only shuts down their writing sides).  Returns NULL on
 * failure (the session is freed and the callback never called).
 */
struct proto_pump *proto_pump_start(struct event_base *base, int plain,
    int wire, struct proto_session *s, void (*callback)(void *, int),
    void *cookie);

/**
 * proto_pump_free(p):
 * Stop the pump ${p}, wipe its session, and free it.  The
 * callback is not called.  No-op if NULL.
 */
void proto_pump_free(struct proto_pump *p);

/**
 * proto_pump_blocking(in, out, s, encrypt):
 * Move data from the blocking descriptor ${in} to the blocking descriptor
 * ${out} until end of file on ${in}: encrypting with the send keys of ${s}
 * if ${encrypt} is nonzero, else decrypting with its receive keys.  Does
 * not close or shut down either descriptor.  One thread may run the
 * encrypting direction while another runs the decrypting one on the same
 * session.  Returns 0 at a clean end of file, or -1 on a read or write
 * error, a bad packet or a stream ending inside a packet.
 */
int proto_pump_blocking(int in, int out, struct proto_session *s,
    int encrypt);

#endif /* !PROTO_PUMP_H_ */
