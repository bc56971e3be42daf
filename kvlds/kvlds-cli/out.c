#include <errno.h>
#include <poll.h>

#include <event2/buffer.h>

#include "log/log.h"

#include "out.h"

/**
 * out_write(buf):
 * Write and drain ${buf} to standard output.  Return 0, or -1 (printed).
 */
int
out_write(struct evbuffer *buf)
{
	struct pollfd pfd;

	while (evbuffer_get_length(buf) > 0) {
		if (evbuffer_write(buf, 1) >= 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* Someone made our stdout non-blocking: wait. */
			pfd.fd = 1;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, -1);
			continue;
		}
		/* A reader that went away (| head) needs no message. */
		if (errno != EPIPE)
			warnp("write to standard output");
		return (-1);
	}
	return (0);
}
