#ifndef BRIDGE_H_
#define BRIDGE_H_

/*
 * bridge: spipe's data phase.  Standard input is encrypted onto the
 * socket and the socket is decrypted onto standard output, each direction
 * in its own thread with blocking I/O (standard input may be a file, a
 * pipe or a terminal, which an event loop could not all watch).
 */

struct proto_session;

/**
 * bridge_run(in, out, s, session):
 * Pump ${in} -> socket ${s} (encrypting) and ${s} -> ${out} (decrypting)
 * with ${session} until both directions have ended: at end of file on
 * ${in} the socket's writing side is shut down; at end of file on the
 * socket ${out} is closed.  Returns 0 when both ended cleanly, or -1 as
 * soon as either fails (bad packet, read or write error); the other
 * direction may then still be blocked, so the caller should exit.
 */
int bridge_run(int, int, int, struct proto_session *);

#endif /* !BRIDGE_H_ */
