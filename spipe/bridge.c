/*
 * spipe's data phase (see bridge.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "log/log.h"
#include "proto/proto_pump.h"

#include "bridge.h"

struct up {
	int in, s;
	struct proto_session *session;
	int rc;
};

/* Standard input to the socket, then half-close the socket. */
static void *
upstream(void *cookie)
{
	struct up *u = cookie;

	u->rc = proto_pump_blocking(u->in, u->s, u->session, 1);
	if (u->rc == 0 && shutdown(u->s, SHUT_WR) && errno != ENOTCONN)
		u->rc = -1;
	return (NULL);
}

/**
 * bridge_run(in, out, s, session):
 * Pump ${in} -> ${s} (encrypting) and ${s} -> ${out} (decrypting).
 */
int
bridge_run(int in, int out, int s, struct proto_session *session)
{
	struct up u;
	pthread_t t;

	u.in = in;
	u.s = s;
	u.session = session;
	u.rc = -1;
	if (pthread_create(&t, NULL, upstream, &u)) {
		warn0("pthread_create failed");
		return (-1);
	}

	/* The socket to standard output, here. */
	if (proto_pump_blocking(s, out, session, 0)) {
		warn0("connection failed or was corrupted");
		return (-1);
	}
	close(out);

	if (pthread_join(t, NULL)) {
		warn0("pthread_join failed");
		return (-1);
	}
	if (u.rc) {
		warn0("error sending standard input");
		return (-1);
	}
	return (0);
}
