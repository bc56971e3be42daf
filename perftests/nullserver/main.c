/*
 * nullserver -s <address> [-s <address> ...] [--absent]
 *
 * A kvlds protocol server that stores nothing, for measuring the ceiling
 * of the benchmark clients: PARAMS reports 255/255; SET, ADD, MODIFY,
 * DELETE, CAS and CAD answer status 0; GET returns a fixed 40-byte value
 * (or "absent" with --absent); RANGE returns fixed 40+40-byte pairs
 * filling the requested budget (at most 64 kB; at least one pair) and an
 * empty "next" (the range is exhausted).  Requests are parsed and
 * checked as kvlds would; a malformed one drops its connection.
 * Runs in the foreground until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "daemon/daemon.h"
#include "kvproto/kvproto.h"
#include "log/log.h"
#include "packet/packet.h"
#include "sock/sock.h"

#define MAXLISTEN	8
#define RANGE_CAP	65536

static struct kvproto_range *range;
static const uint8_t *range_rec;
static size_t range_len, range_cap;
static int absent;
static uint8_t fixed[40];

static void
conn_close(struct bufferevent *bev)
{

	bufferevent_free(bev);
}

static int
answer(struct evbuffer *out, uint64_t id, const uint8_t *rec, size_t len)
{
	struct kvproto_req q;
	uint8_t buf[KVPROTO_RESP_MAXLEN];
	const uint8_t *r = buf;
	size_t rlen, i, cap;

	if (kvproto_req_parse(rec, len, KVPROTO_MAXKV, KVPROTO_MAXKV, &q))
		return (-1);
	switch (q.type) {
	case KVPROTO_PARAMS:
		rlen = kvproto_resp_params(buf, KVPROTO_MAXKV, KVPROTO_MAXKV);
		break;
	case KVPROTO_GET:
		rlen = kvproto_resp_get(buf, absent ? NULL : fixed,
		    sizeof(fixed));
		break;
	case KVPROTO_RANGE:
		/* The answer depends only on the budget: build it once. */
		cap = (q.maxbytes < RANGE_CAP) ? q.maxbytes : RANGE_CAP;
		if (cap != range_cap || range_rec == NULL) {
			kvproto_range_reset(range, cap);
			for (i = 0; i < RANGE_CAP; i++)
				if (kvproto_range_add(range, fixed,
				    sizeof(fixed), fixed, sizeof(fixed)))
					break;
			if (kvproto_range_finish(range, NULL, 0, &range_rec,
			    &range_len))
				return (-1);
			range_cap = cap;
		}
		r = range_rec;
		rlen = range_len;
		break;
	default:
		rlen = kvproto_resp_status(buf, 0);
		break;
	}
	return (packet_evwrite(out, id, r, rlen));
}

static void
readcb(struct bufferevent *bev, void *cookie)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	const uint8_t *rec;
	uint64_t id;
	size_t len;
	int rc;

	(void)cookie;
	while ((rc = packet_evpeek(in, KVPROTO_REQ_MAXLEN, &id, &rec, &len))
	    == PACKET_OK) {
		if (answer(out, id, rec, len)) {
			log_ratelimited("malformed request; dropping "
			    "connection");
			conn_close(bev);
			return;
		}
		packet_evdrain(in, len);
	}
	if (rc != PACKET_NEEDMORE) {
		log_ratelimited("malformed packet; dropping connection");
		conn_close(bev);
	}
}

static void
eventcb(struct bufferevent *bev, short what, void *cookie)
{

	(void)cookie;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_close(bev);
}

static void
acceptcb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *cookie)
{
	struct event_base *base = cookie;
	struct bufferevent *bev;
	int one = 1;

	(void)l;
	(void)sa;
	(void)salen;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE))
	    == NULL) {
		close(fd);
		return;
	}
	bufferevent_set_max_single_read(bev, 256 * 1024);
	bufferevent_set_max_single_write(bev, 256 * 1024);
	bufferevent_setcb(bev, readcb, NULL, eventcb, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void
sigcb(void *cookie, int signo)
{

	(void)signo;
	event_base_loopbreak(cookie);
}

static void
usage(FILE *f)
{

	fprintf(f, "usage: nullserver -s <address> [-s <address> ...] "
	    "[--absent]\n"
	    "A kvlds protocol server that stores nothing (benchmark "
	    "ceilings).\n"
	    "  -s ADDR    listen on a Unix socket path or host:port\n"
	    "  --absent   GET answers \"absent\" instead of a fixed value\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "absent", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *addrs[MAXLISTEN];
	struct evconnlistener *ls[MAXLISTEN];
	struct sock_addr **sas[MAXLISTEN];
	struct daemon_signals *ds;
	struct event_base *base;
	int naddrs = 0, i, fd, ch;

	log_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (naddrs == MAXLISTEN) {
				warn0("too many -s");
				exit(1);
			}
			addrs[naddrs++] = optarg;
			break;
		case 'a':
			absent = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(1);
		}
	}
	if ((naddrs == 0) || (optind != argc)) {
		usage(stderr);
		exit(1);
	}
	memset(fixed, 'v', sizeof(fixed));
	if ((range = kvproto_range_init(RANGE_CAP)) == NULL)
		exit(1);
	if ((base = event_base_new()) == NULL) {
		warn0("event_base_new failed");
		exit(1);
	}
	for (i = 0; i < naddrs; i++) {
		if ((sas[i] = sock_resolve(addrs[i])) == NULL)
			exit(1);
		if ((fd = sock_listen(sas[i][0], -1)) == -1)
			exit(1);
		if ((ls[i] = evconnlistener_new(base, acceptcb, base,
		    LEV_OPT_CLOSE_ON_FREE, -1, fd)) == NULL) {
			warn0("evconnlistener_new failed");
			exit(1);
		}
	}
	if ((ds = daemon_signals_init(base, sigcb, base)) == NULL)
		exit(1);
	event_base_dispatch(base);

	for (i = 0; i < naddrs; i++) {
		evconnlistener_free(ls[i]);
		if (sock_is_unix(sas[i][0]))
			unlink(sock_addr_unix_path(sas[i][0]));
		sock_addr_freelist(sas[i]);
	}
	daemon_signals_free(ds);
	kvproto_range_free(range);
	event_base_free(base);
	return (0);
}
