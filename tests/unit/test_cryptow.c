/*
 * Unit tests for kvlds/cryptow: with and without its thread, every job
 * comes back through the event loop, in submission order, never from
 * within cryptow_submit, with the result proto_session_encrypt/decrypt
 * would give.
 */

#include <stdint.h>
#include <string.h>

#include <event2/event.h>

#include "proto/proto_crypt.h"
#include "kvlds/cryptow.h"

#include "unit.h"

#define NJOBS	8
#define PLEN	3000		/* 3 packets, the last one partial. */

struct ctx {
	int in_submit;		/* Set around cryptow_submit. */
	int reentered;		/* A callback ran inside it. */
	size_t ndone;
	struct cryptow_job *order[2 * NJOBS];
	struct event_base *base;
	size_t want;
};

static void
donecb(void *cookie, struct cryptow_job *j)
{
	struct ctx *x = cookie;

	if (x->in_submit)
		x->reentered = 1;
	if (x->ndone < 2 * NJOBS)
		x->order[x->ndone] = j;
	if (++x->ndone == x->want)
		event_base_loopbreak(x->base);
}

static void
submit(struct ctx *x, struct cryptow *W, struct cryptow_job *j)
{

	x->in_submit = 1;
	cryptow_submit(W, j);
	x->in_submit = 0;
}

/* Run the loop until ${x->want} completions (or 10 s). */
static void
run_until(struct ctx *x)
{
	struct timeval tv = { 10, 0 };

	event_base_loopexit(x->base, &tv);
	event_base_dispatch(x->base);
}

static void
roundtrip(int threaded)
{
	static uint8_t plain[NJOBS][PLEN], wire[NJOBS][PROTO_WIRELEN(PLEN)];
	static uint8_t back[NJOBS][PROTO_DECRYPT_ROOM(3)];
	struct cryptow_job ej[NJOBS], dj[NJOBS];
	struct proto_session *cs, *ss;
	struct cryptow *W;
	struct ctx x;
	uint8_t dk[PROTO_DKLEN];
	size_t i, k;

	memset(&x, 0, sizeof(x));
	for (i = 0; i < sizeof(dk); i++)
		dk[i] = (uint8_t)(i * 7 + 1);
	CU_ASSERT_FATAL((cs = proto_session_new(dk, 0)) != NULL);
	CU_ASSERT_FATAL((ss = proto_session_new(dk, 1)) != NULL);
	CU_ASSERT_FATAL((x.base = event_base_new()) != NULL);
	CU_ASSERT_FATAL((W = cryptow_new(x.base, threaded, donecb, &x)) !=
	    NULL);

	/* Encrypt NJOBS messages, one job each. */
	memset(ej, 0, sizeof(ej));
	for (k = 0; k < NJOBS; k++) {
		for (i = 0; i < PLEN; i++)
			plain[k][i] = (uint8_t)(k * 31 + i);
		ej[k].op = CRYPTOW_ENCRYPT;
		ej[k].s = cs;
		ej[k].in = plain[k];
		ej[k].n = PLEN;
		ej[k].out = wire[k];
		submit(&x, W, &ej[k]);
	}
	x.want = NJOBS;
	run_until(&x);
	CU_ASSERT(x.ndone == NJOBS);
	CU_ASSERT(!x.reentered);
	for (k = 0; k < NJOBS && k < x.ndone; k++) {
		CU_ASSERT(x.order[k] == &ej[k]);
		CU_ASSERT(ej[k].result == (ssize_t)PROTO_WIRELEN(PLEN));
	}

	/* Decrypt them, in order, with the other side's session. */
	memset(dj, 0, sizeof(dj));
	for (k = 0; k < NJOBS; k++) {
		dj[k].op = CRYPTOW_DECRYPT;
		dj[k].s = ss;
		dj[k].in = wire[k];
		dj[k].n = PROTO_WIRELEN(PLEN) / PROTO_PKT_LEN;
		dj[k].out = back[k];
		submit(&x, W, &dj[k]);
	}
	x.want = 2 * NJOBS;
	run_until(&x);
	CU_ASSERT(x.ndone == 2 * NJOBS);
	CU_ASSERT(!x.reentered);
	for (k = 0; k < NJOBS && NJOBS + k < x.ndone; k++) {
		CU_ASSERT(x.order[NJOBS + k] == &dj[k]);
		CU_ASSERT(dj[k].result == PLEN);
		CU_ASSERT(memcmp(back[k], plain[k], PLEN) == 0);
	}

	/* A packet out of order fails its MAC. */
	dj[0].in = wire[0] + PROTO_PKT_LEN;
	dj[0].n = 1;
	submit(&x, W, &dj[0]);
	x.want = 2 * NJOBS + 1;
	run_until(&x);
	CU_ASSERT(dj[0].result == -1);

	cryptow_free(W);
	event_base_free(x.base);
	proto_session_free(cs);
	proto_session_free(ss);
}

static void
test_cryptow_inline(void)
{

	roundtrip(0);
}

static void
test_cryptow_thread(void)
{

	roundtrip(1);
}

/* cryptow_free delivers what is still queued; NULL is a no-op. */
static void
test_cryptow_free_delivers(void)
{
	static uint8_t plain[PLEN], wire[PROTO_WIRELEN(PLEN)];
	struct cryptow_job j;
	struct proto_session *cs;
	struct cryptow *W;
	struct ctx x;
	uint8_t dk[PROTO_DKLEN];
	int threaded;

	memset(dk, 5, sizeof(dk));
	memset(plain, 1, sizeof(plain));
	for (threaded = 0; threaded < 2; threaded++) {
		memset(&x, 0, sizeof(x));
		CU_ASSERT_FATAL((cs = proto_session_new(dk, 0)) != NULL);
		CU_ASSERT_FATAL((x.base = event_base_new()) != NULL);
		CU_ASSERT_FATAL((W = cryptow_new(x.base, threaded, donecb,
		    &x)) != NULL);
		memset(&j, 0, sizeof(j));
		j.op = CRYPTOW_ENCRYPT;
		j.s = cs;
		j.in = plain;
		j.n = PLEN;
		j.out = wire;
		submit(&x, W, &j);
		x.want = 1;
		cryptow_free(W);
		CU_ASSERT(x.ndone == 1);
		CU_ASSERT(j.result == (ssize_t)PROTO_WIRELEN(PLEN));
		event_base_free(x.base);
		proto_session_free(cs);
	}
	cryptow_free(NULL);
}

UNIT_MAIN("cryptow",
    { "inline: order, results, no re-entry", test_cryptow_inline },
    { "thread: order, results, no re-entry", test_cryptow_thread },
    { "free delivers the queued jobs", test_cryptow_free_delivers })
