#ifndef KVCLIENT_TRANSPORT_H_
#define KVCLIENT_TRANSPORT_H_

/*
 * The byte transport under kvclient's packet layer (private to
 * lib/kvclient).  A transport owns the connected socket and presents two
 * plaintext evbuffers: kvclient appends whole packets to the output one
 * and takes packets from the head of the input one.  The transport moves
 * bytes between them and the socket (as they are, with one read(2) per
 * readiness event and one writev(2) per event loop pass; or through the
 * spiped protocol of lib/proto), and tells kvclient when new input
 * arrived or the connection failed.
 *
 * Callbacks run from the event loop; the transport never calls them from
 * inside one of its own functions below.
 */

#include <stdint.h>

struct event_base;
struct evbuffer;
struct kvclient_transport;

/*
 * Callbacks into the layer above: ${readcb}(cookie) when bytes were
 * added to the input evbuffer; ${failcb}(cookie, why) once when the
 * connection is over (EOF, error), ${why} a static description.  After
 * ${failcb} no callback is called again; ${failcb} may free the
 * transport.
 */
struct kvclient_transport_cbs {
	void (*readcb)(void *);
	void (*failcb)(void *, const char *);
};

/**
 * kvclient_transport_plain(base, fd, cbs, cookie):
 * Create a plaintext transport over the connected stream socket ${fd}
 * (made non-blocking; owned by the transport from now on, closed even if
 * this fails), running in ${base}.  Return it, or NULL (printed).
 */
struct kvclient_transport * kvclient_transport_plain(struct event_base *,
    int, const struct kvclient_transport_cbs *, void *);

/**
 * kvclient_transport_spiped(base, fd, K, flags, cbs, cookie):
 * Create a transport speaking the spiped protocol over the connected
 * stream socket ${fd} (made non-blocking; owned by the transport from
 * now on, closed even if this fails), under the 32-byte key ${K}
 * (copied), running in ${base}.  ${flags} are lib/proto's PROTO_HS_*
 * flags (PROTO_HS_SERVER for the accepting side, used by tests;
 * PROTO_HS_NOPFS, PROTO_HS_REQPFS).  The handshake runs in the event
 * loop; output appended before it completes is held and sent, encrypted,
 * once it has.  Output appended during one pass of the event loop is
 * encrypted together (spiped packets carry up to 1024 bytes).  A failed
 * handshake (wrong key, not a spiped endpoint, timeout) or a bad packet
 * ends the connection through ${cbs}->failcb.  Return the transport, or
 * NULL (printed).
 */
struct kvclient_transport * kvclient_transport_spiped(struct event_base *,
    int, const uint8_t *, int, const struct kvclient_transport_cbs *,
    void *);

/**
 * kvclient_transport_input(t), kvclient_transport_output(t):
 * Return the input evbuffer (bytes received, plaintext) and the output
 * evbuffer (bytes to send; appending to it schedules the write) of ${t}.
 */
struct evbuffer * kvclient_transport_input(struct kvclient_transport *);
struct evbuffer * kvclient_transport_output(struct kvclient_transport *);

/**
 * kvclient_transport_free(t):
 * Close the connection and free ${t}; unsent output is discarded and no
 * callback is called again.  NULL is a no-op.
 */
void kvclient_transport_free(struct kvclient_transport *);

#endif /* !KVCLIENT_TRANSPORT_H_ */
