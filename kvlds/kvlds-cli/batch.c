#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "kvclient/kvclient.h"
#include "log/log.h"

#include "batch.h"
#include "cmd.h"
#include "out.h"

/* Bytes read from the input at once. */
#define READSZ		65536

/* Flush the output once this much is waiting. */
#define OUT_FLUSH	65536

/* Most words on a line (cas KEY OLD NEW has 4). */
#define MAXWORDS	8

/* One command: in flight, or done and waiting for its turn to print. */
struct slot {
	struct batch *B;
	struct evbuffer *out;
	int done;
	int status;
};

struct batch {
	struct kvclient *K;
	struct event_base *base;
	enum enc_mode mode;
	int fd;
	int pollable;		/* ${fd} works with the event loop. */
	struct event *ev_in;	/* Input readable (or: read again). */
	int ev_in_on;
	struct evbuffer *in;	/* Input read, not yet parsed. */
	int eof;
	uint64_t lineno;

	struct slot *ring;	/* ${window} slots. */
	size_t window;
	size_t head;		/* Oldest slot not printed. */
	size_t n;		/* Slots in use (in flight or unprinted). */
	size_t inflight;	/* Slots not done. */
	int lastmod;		/* Class of the commands in flight. */

	struct cmd pending;	/* Parsed, waiting for the in-flight ones. */
	int haspending;

	struct evbuffer *outq;	/* Printed results not yet written. */
	int inprocess;		/* Inside process(): do not recurse. */
	int rc;			/* Exit status so far. */
	int stop;		/* Fatal: stop reading. */
	int finished;
};

static void process(struct batch *);

/* Write the output queue to standard output. */
static void
flush(struct batch *B)
{

	if (out_write(B->outq))
		B->stop = B->rc = 2;
}

/* A command finished: print every done slot at the head of the ring. */
static void
slot_done(void *cookie, int status)
{
	struct slot *s = cookie;
	struct batch *B = s->B;

	s->done = 1;
	s->status = status;
	B->inflight--;
	if (status == 2)
		B->rc = 2;
	if (kvclient_failed(B->K))
		B->stop = 1;

	while ((B->n > 0) && B->ring[B->head].done) {
		s = &B->ring[B->head];
		if (evbuffer_add_buffer(B->outq, s->out)) {
			warn0("out of memory");
			B->stop = B->rc = 2;
		}
		s->done = 0;
		B->head = (B->head + 1) % B->window;
		B->n--;
	}
	if ((B->inflight == 0) || (evbuffer_get_length(B->outq) > OUT_FLUSH))
		flush(B);
	if (!B->inprocess)
		process(B);
}

/* Take a slot and start ${cmd} in it. */
static void
launch(struct batch *B, const struct cmd *cmd)
{
	struct slot *s = &B->ring[(B->head + B->n) % B->window];

	B->n++;
	B->inflight++;
	B->lastmod = cmd_ismodifying(cmd);
	s->done = 0;
	if (cmd_start(B->K, cmd, B->mode, CMD_BATCH, s->out, slot_done, s)) {
		evbuffer_add(s->out, "2\n", 2);
		B->stop = 1;
		slot_done(s, 2);
	}
}

/* A line that did not parse: its result is "2", printed in turn. */
static void
badline(struct batch *B, const char *err)
{
	struct slot *s = &B->ring[(B->head + B->n) % B->window];

	warn0("line %ju: %s", (uintmax_t)B->lineno, err);
	B->n++;
	B->inflight++;
	evbuffer_add(s->out, "2\n", 2);
	slot_done(s, 2);
}

/*
 * Split ${line} into words.  Return the number of words, or -1 (with a
 * message in ${err}) on an unterminated quote or too many words.
 */
static int
split(char *line, size_t len, struct cmd_word *w, char *err, size_t errlen)
{
	size_t i = 0, n = 0, start;

	for (;;) {
		while ((i < len) && ((line[i] == ' ') || (line[i] == '\t') ||
		    (line[i] == '\r')))
			i++;
		if (i == len)
			break;
		if (n == MAXWORDS) {
			snprintf(err, errlen, "too many words");
			return (-1);
		}
		if (line[i] == '"') {
			start = ++i;
			while ((i < len) && (line[i] != '"'))
				i++;
			if (i == len) {
				snprintf(err, errlen, "unterminated quote");
				return (-1);
			}
			w[n].s = &line[start];
			w[n++].len = i - start;
			i++;
			continue;
		}
		start = i;
		while ((i < len) && (line[i] != ' ') && (line[i] != '\t') &&
		    (line[i] != '\r'))
			i++;
		w[n].s = &line[start];
		w[n++].len = i - start;
	}
	return ((int)n);
}

/* Parse and launch as many buffered lines as the window allows. */
static void
process(struct batch *B)
{
	struct cmd_word w[MAXWORDS];
	char err[256];
	char *line;
	size_t len;
	int nw;

	B->inprocess = 1;
	while (!B->stop) {
		if (B->haspending) {
			if ((B->inflight > 0) || (B->n == B->window))
				break;
			B->haspending = 0;
			launch(B, &B->pending);
			continue;
		}
		if (B->n == B->window)
			break;
		line = evbuffer_readln(B->in, &len, EVBUFFER_EOL_LF);
		if ((line == NULL) && B->eof &&
		    (evbuffer_get_length(B->in) > 0)) {
			/* The last line has no newline. */
			len = evbuffer_get_length(B->in);
			if ((line = malloc(len + 1)) == NULL) {
				warnp("malloc");
				B->stop = B->rc = 2;
				break;
			}
			evbuffer_remove(B->in, line, len);
			line[len] = '\0';
		}
		if (line == NULL)
			break;
		B->lineno++;
		if ((nw = split(line, len, w, err, sizeof(err))) < 0) {
			badline(B, err);
		} else if ((nw > 0) && (w[0].s[0] != '#')) {
			if (cmd_parse(B->mode, w, (size_t)nw, &B->pending,
			    err, sizeof(err))) {
				badline(B, err);
			} else if ((B->inflight > 0) &&
			    (cmd_ismodifying(&B->pending) != B->lastmod)) {
				B->haspending = 1;
			} else {
				launch(B, &B->pending);
			}
		}
		free(line);
	}
	B->inprocess = 0;

	/* Done? */
	if ((B->n == 0) && (B->stop || (!B->haspending && B->eof &&
	    (evbuffer_get_length(B->in) == 0)))) {
		B->finished = 1;
		flush(B);
		event_base_loopbreak(B->base);
		return;
	}

	/* Want more input? */
	if (!B->stop && !B->eof && !B->haspending && (B->n < B->window) &&
	    (evbuffer_get_length(B->in) < READSZ)) {
		if (!B->ev_in_on) {
			if (B->pollable)
				event_add(B->ev_in, NULL);
			else
				event_active(B->ev_in, EV_READ, 0);
			B->ev_in_on = 1;
		}
	} else if (B->ev_in_on && B->pollable) {
		event_del(B->ev_in);
		B->ev_in_on = 0;
	}
}

/* Input readable (or, for a file, wanted). */
static void
read_cb(evutil_socket_t fd, short what, void *cookie)
{
	struct batch *B = cookie;
	int r;

	if (!B->pollable)
		B->ev_in_on = 0;
	r = evbuffer_read(B->in, B->fd, READSZ);
	if (r == 0) {
		B->eof = 1;
	} else if (r < 0) {
		if ((errno != EINTR) && (errno != EAGAIN)) {
			warnp("read");
			B->eof = 1;
			B->stop = B->rc = 2;
		}
	}
	if (B->eof && B->pollable && B->ev_in_on) {
		event_del(B->ev_in);
		B->ev_in_on = 0;
	}
	process(B);
}

/**
 * batch_run(K, mode, fd, window):
 * Run the commands read from ${fd} on ${K} with up to ${window} in
 * flight, printing results in input order.  Return the exit status.
 */
int
batch_run(struct kvclient *K, enum enc_mode mode, int fd, size_t window)
{
	struct batch *B;
	struct stat sb;
	size_t i;
	int rc = 2;

	if ((B = calloc(1, sizeof(*B))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	B->K = K;
	B->base = kvclient_base(K);
	B->mode = mode;
	B->fd = fd;
	B->window = window;
	if ((B->ring = calloc(window, sizeof(struct slot))) == NULL) {
		warnp("calloc");
		goto err1;
	}
	for (i = 0; i < window; i++) {
		B->ring[i].B = B;
		if ((B->ring[i].out = evbuffer_new()) == NULL)
			goto err2;
	}
	if (((B->in = evbuffer_new()) == NULL) ||
	    ((B->outq = evbuffer_new()) == NULL))
		goto err2;

	/*
	 * Pipes, sockets and terminals go through the event loop, so that
	 * answers keep coming while the input is quiet.  Files (and
	 * devices such as /dev/null) cannot be polled, and never block:
	 * they are read whenever more input is wanted.
	 */
	if (fstat(fd, &sb)) {
		warnp("fstat");
		goto err2;
	}
	B->pollable = S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode) ||
	    (S_ISCHR(sb.st_mode) && isatty(fd));
	if ((B->ev_in = event_new(B->base, B->pollable ? fd : -1,
	    B->pollable ? (EV_READ | EV_PERSIST) : 0, read_cb, B)) == NULL) {
		warn0("event_new failed");
		goto err2;
	}

	process(B);
	while (!B->finished) {
		/* 1: no events left, which cannot happen while we wait. */
		if (event_base_dispatch(B->base) != 0) {
			warn0("event loop failed");
			B->rc = 2;
			break;
		}
	}
	rc = B->rc;

	event_free(B->ev_in);
err2:
	for (i = 0; i < window; i++)
		if (B->ring[i].out != NULL)
			evbuffer_free(B->ring[i].out);
	if (B->in != NULL)
		evbuffer_free(B->in);
	if (B->outq != NULL)
		evbuffer_free(B->outq);
	free(B->ring);
err1:
	free(B);
err0:
	return (rc);
}
