/*
 * nullserver -s <address> [-s <address> ...] [-T N] [--absent]
 *
 * A kvlds protocol server that stores nothing, for measuring the ceiling
 * of the benchmark clients: PARAMS reports 255/255; SET, ADD, MODIFY,
 * DELETE, CAS and CAD answer status 0; GET returns a fixed 40-byte value
 * (or "absent" with --absent); RANGE returns fixed 40+40-byte pairs
 * filling the requested budget (at most 64 kB; at least one pair) and an
 * empty "next" (the range is exhausted).  Requests are parsed and
 * checked as kvlds would; a malformed one drops its connection.
 * Runs in the foreground until SIGTERM or SIGINT.
 *
 * It has to cost far less per request than kvlds, or it measures itself
 * rather than the client: each connection reads into a flat buffer,
 * parses the packets in place, encodes the answers straight into a flat
 * output buffer (fixed answers have their record CRC computed once, so
 * an answer costs one 12-byte header CRC) and writes them with one
 * send(2) per read.  -T N spreads the connections over N threads (each
 * with its own event loop), round-robin as they are accepted.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "crc32c/crc32c.h"
#include "daemon/daemon.h"
#include "kvproto/kvproto.h"
#include "log/log.h"
#include "packet/packet.h"
#include "parse/parse.h"
#include "sock/sock.h"

#define MAXLISTEN	8
#define MAXTHREADS	64
#define RANGE_CAP	65536
#define INBUF		(256 * 1024)	/* One read(2) at most. */
#define OUT_HIGH	(4 * 1024 * 1024) /* Stop reading above this. */

/* A precomputed answer record and its CRC state. */
struct answer {
	uint8_t rec[KVPROTO_RANGE_HDRMAX + RANGE_CAP + KVPROTO_PAIRLEN(255,
	    255)];
	size_t len;
	uint32_t crc;
};

struct worker;

struct conn {
	struct worker *w;
	struct conn *prev, *next;
	int fd;
	struct event *rev, *wev;
	int reading, writing;
	uint8_t *in;		/* INBUF bytes. */
	size_t inlen;		/* Bytes of a partial packet kept. */
	uint8_t *out;
	size_t outoff, outlen, outcap;
};

struct worker {
	struct event_base *base;
	pthread_t thr;
	int started;
	int pipefd[2];		/* Accepted fds from the main thread. */
	struct event *pev;
	struct conn *conns;
	struct answer range;	/* Answer for the budget range_cap. */
	size_t range_cap;
	struct kvproto_range *rb;
};

static struct answer ans_get, ans_status;
static int absent;
static uint8_t fixed[40];

static void
answer_init(struct answer *a, size_t len)
{

	a->len = len;
	a->crc = crc32c(a->rec, len);
}

static void
conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	event_free(c->rev);
	event_free(c->wev);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* Make room for ${n} more bytes of output; 0 or -1. */
static int
out_reserve(struct conn *c, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + n <= c->outcap)
		return (0);
	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
		if (c->outlen + n <= c->outcap)
			return (0);
	}
	for (cap = c->outcap ? c->outcap : 65536; cap < c->outlen + n; )
		cap *= 2;
	if ((p = realloc(c->out, cap)) == NULL)
		return (-1);
	c->out = p;
	c->outcap = cap;
	return (0);
}

static void
le32enc(uint8_t *p, uint32_t x)
{

	p[0] = (uint8_t)x;
	p[1] = (uint8_t)(x >> 8);
	p[2] = (uint8_t)(x >> 16);
	p[3] = (uint8_t)(x >> 24);
}

/* Append the packet (${id}, ${a}) to the output of ${c}; 0 or -1. */
static int
emit(struct conn *c, uint64_t id, const struct answer *a)
{
	uint8_t *p;
	uint32_t hcrc;
	int i;

	if (out_reserve(c, a->len + PACKET_OVERHEAD))
		return (-1);
	p = c->out + c->outlen;
	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)id;
		id >>= 8;
	}
	p[8] = (uint8_t)(a->len >> 24);
	p[9] = (uint8_t)(a->len >> 16);
	p[10] = (uint8_t)(a->len >> 8);
	p[11] = (uint8_t)a->len;
	hcrc = crc32c(p, 12);
	le32enc(&p[12], hcrc);
	memcpy(&p[PACKET_HDRLEN], a->rec, a->len);
	le32enc(&p[PACKET_HDRLEN + a->len], a->crc ^ hcrc);
	c->outlen += a->len + PACKET_OVERHEAD;
	return (0);
}

/* Answer the request record ${rec}; 0, or -1 if it is malformed. */
static int
answer(struct conn *c, uint64_t id, const uint8_t *rec, size_t len)
{
	struct worker *w = c->w;
	struct kvproto_req q;
	struct answer params;
	size_t i, cap;

	if (kvproto_req_parse(rec, len, KVPROTO_MAXKV, KVPROTO_MAXKV, &q))
		return (-1);
	switch (q.type) {
	case KVPROTO_GET:
		return (emit(c, id, &ans_get));
	case KVPROTO_PARAMS:
		answer_init(&params, kvproto_resp_params(params.rec,
		    KVPROTO_MAXKV, KVPROTO_MAXKV));
		return (emit(c, id, &params));
	case KVPROTO_RANGE:
		/* The answer depends only on the budget: build it once. */
		cap = (q.maxbytes < RANGE_CAP) ? q.maxbytes : RANGE_CAP;
		if (cap != w->range_cap || w->range.len == 0) {
			const uint8_t *r;
			size_t rl;

			kvproto_range_reset(w->rb, cap);
			for (i = 0; i < RANGE_CAP; i++)
				if (kvproto_range_add(w->rb, fixed,
				    sizeof(fixed), fixed, sizeof(fixed)))
					break;
			if (kvproto_range_finish(w->rb, NULL, 0, &r, &rl) ||
			    rl > sizeof(w->range.rec))
				return (-1);
			memcpy(w->range.rec, r, rl);
			answer_init(&w->range, rl);
			w->range_cap = cap;
		}
		return (emit(c, id, &w->range));
	default:
		return (emit(c, id, &ans_status));
	}
}

static void
set_reading(struct conn *c, int on)
{

	if (on == c->reading)
		return;
	if (on ? event_add(c->rev, NULL) : event_del(c->rev))
		warn0("event_%s failed", on ? "add" : "del");
	c->reading = on;
}

/* Send what ${c} has; 0, or -1 if ${c} was closed. */
static int
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(c);
			return (-1);
		}
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if ((c->outlen > c->outoff) != c->writing) {
		c->writing = !c->writing;
		if (c->writing ? event_add(c->wev, NULL) : event_del(c->wev))
			warn0("event_add/del failed");
	}
	set_reading(c, c->outlen - c->outoff < OUT_HIGH);
	return (0);
}

static void
readcb(evutil_socket_t fd, short what, void *cookie)
{
	struct conn *c = cookie;
	const uint8_t *rec;
	uint64_t id;
	size_t off, len, total;
	ssize_t n;
	int rc;

	(void)what;
	n = read(fd, c->in + c->inlen, INBUF - c->inlen);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_close(c);
		return;
	}
	if (n == 0) {
		conn_close(c);
		return;
	}
	total = c->inlen + (size_t)n;
	for (off = 0; ; off += len + PACKET_OVERHEAD) {
		rc = packet_parse(c->in + off, total - off, KVPROTO_REQ_MAXLEN,
		    &id, &rec, &len);
		if (rc == PACKET_NEEDMORE)
			break;
		if (rc != PACKET_OK) {
			log_ratelimited("malformed packet; dropping "
			    "connection");
			conn_close(c);
			return;
		}
		if (answer(c, id, rec, len)) {
			log_ratelimited("malformed request (or out of "
			    "memory); dropping connection");
			conn_close(c);
			return;
		}
	}
	c->inlen = total - off;
	if (c->inlen > 0 && off > 0)
		memmove(c->in, c->in + off, c->inlen);
	(void)conn_flush(c);
}

static void
writecb(evutil_socket_t fd, short what, void *cookie)
{

	(void)fd;
	(void)what;
	(void)conn_flush(cookie);
}

/* Serve the accepted socket ${fd} in ${w}. */
static void
conn_new(struct worker *w, int fd)
{
	struct conn *c;
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) ||
	    ((c = calloc(1, sizeof(*c))) == NULL)) {
		close(fd);
		return;
	}
	c->w = w;
	c->fd = fd;
	if (((c->in = malloc(INBUF)) == NULL) ||
	    ((c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, readcb,
	    c)) == NULL) ||
	    ((c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST, writecb,
	    c)) == NULL)) {
		warn0("cannot set up a connection");
		if (c->rev != NULL)
			event_free(c->rev);
		free(c->in);
		free(c);
		close(fd);
		return;
	}
	if ((c->next = w->conns) != NULL)
		c->next->prev = c;
	w->conns = c;
	set_reading(c, 1);
}

/* A worker thread's pipe: an accepted fd, or -1 to stop. */
static void
pipecb(evutil_socket_t fd, short what, void *cookie)
{
	struct worker *w = cookie;
	int cfd;

	(void)what;
	if (read(fd, &cfd, sizeof(cfd)) != sizeof(cfd))
		return;
	if (cfd == -1)
		event_base_loopbreak(w->base);
	else
		conn_new(w, cfd);
}

static void *
worker_main(void *cookie)
{
	struct worker *w = cookie;

	event_base_dispatch(w->base);
	return (NULL);
}

static struct worker workers[MAXTHREADS];
static size_t nworkers = 1, nextworker;

static void
acceptcb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *cookie)
{
	struct worker *w = &workers[nextworker];
	int cfd = fd;

	(void)l;
	(void)sa;
	(void)salen;
	(void)cookie;
	nextworker = (nextworker + 1) % nworkers;
	if (w == &workers[0])
		conn_new(w, cfd);
	else if (write(w->pipefd[1], &cfd, sizeof(cfd)) != sizeof(cfd))
		close(cfd);
}

static int
worker_init(struct worker *w, struct event_base *base)
{

	w->pipefd[0] = w->pipefd[1] = -1;
	if ((w->rb = kvproto_range_init(RANGE_CAP)) == NULL)
		return (-1);
	if (base != NULL) {
		w->base = base;
		return (0);
	}
	if ((w->base = event_base_new()) == NULL) {
		warn0("event_base_new failed");
		return (-1);
	}
	if (pipe(w->pipefd)) {
		warnp("pipe");
		return (-1);
	}
	if (((w->pev = event_new(w->base, w->pipefd[0], EV_READ | EV_PERSIST,
	    pipecb, w)) == NULL) || event_add(w->pev, NULL)) {
		warn0("event_new failed");
		return (-1);
	}
	if ((errno = pthread_create(&w->thr, NULL, worker_main, w)) != 0) {
		warnp("pthread_create");
		return (-1);
	}
	w->started = 1;
	return (0);
}

static void
worker_free(struct worker *w, int own)
{
	struct conn *c, *next;
	int stop = -1;

	if (w->started) {
		if (write(w->pipefd[1], &stop, sizeof(stop)) == sizeof(stop))
			pthread_join(w->thr, NULL);
	}
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		conn_close(c);
	}
	if (w->pev != NULL)
		event_free(w->pev);
	if (w->pipefd[0] != -1) {
		close(w->pipefd[0]);
		close(w->pipefd[1]);
	}
	kvproto_range_free(w->rb);
	if (own && w->base != NULL)
		event_base_free(w->base);
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
	    "[-T N] [--absent]\n"
	    "A kvlds protocol server that stores nothing (benchmark "
	    "ceilings).\n"
	    "  -s ADDR       listen on a Unix socket path or host:port\n"
	    "  -T, --threads N  serve connections from N threads "
	    "(default 1)\n"
	    "  --absent      GET answers \"absent\" instead of a fixed "
	    "value\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "absent", no_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *addrs[MAXLISTEN];
	struct evconnlistener *ls[MAXLISTEN];
	struct sock_addr **sas[MAXLISTEN];
	struct daemon_signals *ds;
	struct event_base *base;
	uint64_t u;
	size_t k;
	int naddrs = 0, i, fd, ch;

	log_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "s:T:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (naddrs == MAXLISTEN) {
				warn0("too many -s");
				exit(1);
			}
			addrs[naddrs++] = optarg;
			break;
		case 'T':
			if (parse_uint64(optarg, 1, MAXTHREADS, &u)) {
				warnp("-T %s", optarg);
				exit(1);
			}
			nworkers = (size_t)u;
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
	answer_init(&ans_get, kvproto_resp_get(ans_get.rec, absent ? NULL :
	    fixed, sizeof(fixed)));
	answer_init(&ans_status, kvproto_resp_status(ans_status.rec, 0));
	if ((base = event_base_new()) == NULL) {
		warn0("event_base_new failed");
		exit(1);
	}
	for (k = 0; k < nworkers; k++)
		if (worker_init(&workers[k], k == 0 ? base : NULL))
			exit(1);
	for (i = 0; i < naddrs; i++) {
		if ((sas[i] = sock_resolve(addrs[i])) == NULL)
			exit(1);
		if ((fd = sock_listen(sas[i][0], -1)) == -1)
			exit(1);
		if ((ls[i] = evconnlistener_new(base, acceptcb, NULL,
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
	for (k = nworkers; k > 0; k--)
		worker_free(&workers[k - 1], k - 1 != 0);
	daemon_signals_free(ds);
	event_base_free(base);
	return (0);
}
