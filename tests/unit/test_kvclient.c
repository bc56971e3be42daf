#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "kvclient/kvclient.h"
#include "kvclient/kvclient_transport.h"
#include "kvproto/kvproto.h"
#include "packet/packet.h"
#include "proto/proto_handshake.h"

#include "unit.h"

/*
 * An in-process fake kvlds: the other end of a socketpair, served by a
 * bufferevent in the same event_base as the client.  It keeps a small
 * sorted store and answers every request as the protocol says.  Modes:
 * "hold" keeps responses back and sends them all in reverse order on
 * fsrv_release(); "silent" never answers; "garbage" answers with a bad
 * packet.
 */
#define FS_MAX	4096

struct pair {
	uint8_t k[256];
	size_t kl;
	uint8_t v[256];
	size_t vl;
};

struct fsrv {
	struct bufferevent *bev;
	struct kvclient_transport *t;	/* spiped server side, or NULL */
	struct pair *pairs;
	size_t npairs;
	uint32_t maxkey, maxval;
	int hold, silent, garbage;
	struct evbuffer *held[FS_MAX];
	size_t nheld;
	size_t nreq;
	size_t nfail;
};

static int
kcmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return (c ? c : (al > bl) - (al < bl));
}

/* Return the index of the first pair with key >= k. */
static size_t
fs_find(struct fsrv *S, const uint8_t *k, size_t kl)
{
	size_t i;

	for (i = 0; i < S->npairs; i++)
		if (kcmp(S->pairs[i].k, S->pairs[i].kl, k, kl) >= 0)
			break;
	return (i);
}

static int
fs_has(struct fsrv *S, const uint8_t *k, size_t kl, size_t *i)
{

	*i = fs_find(S, k, kl);
	return (*i < S->npairs &&
	    kcmp(S->pairs[*i].k, S->pairs[*i].kl, k, kl) == 0);
}

static void
fs_put(struct fsrv *S, const uint8_t *k, size_t kl, const uint8_t *v,
    size_t vl)
{
	size_t i;

	if (!fs_has(S, k, kl, &i)) {
		S->pairs = realloc(S->pairs, (S->npairs + 1) *
		    sizeof(struct pair));
		memmove(&S->pairs[i + 1], &S->pairs[i],
		    (S->npairs - i) * sizeof(struct pair));
		S->npairs++;
		memcpy(S->pairs[i].k, k, kl);
		S->pairs[i].kl = kl;
	}
	if (vl)
		memcpy(S->pairs[i].v, v, vl);
	S->pairs[i].vl = vl;
}

static void
fs_del(struct fsrv *S, size_t i)
{

	memmove(&S->pairs[i], &S->pairs[i + 1],
	    (S->npairs - i - 1) * sizeof(struct pair));
	S->npairs--;
}

static int
fs_eqval(struct fsrv *S, size_t i, const uint8_t *v, size_t vl)
{

	return (S->pairs[i].vl == vl && memcmp(S->pairs[i].v, v, vl) == 0);
}

static struct evbuffer *
fs_out(struct fsrv *S)
{

	return (S->t ? kvclient_transport_output(S->t) :
	    bufferevent_get_output(S->bev));
}

static void
fs_answer(struct fsrv *S, uint64_t id, const struct kvproto_req *q)
{
	static uint8_t buf[1 << 17];
	struct evbuffer *out = fs_out(S);
	struct kvproto_range *r;
	const uint8_t *rec = buf;
	size_t len = 0, i;
	int present = fs_has(S, q->key, q->keylen, &i);

	switch (q->type) {
	case KVPROTO_PARAMS:
		len = kvproto_resp_params(buf, S->maxkey, S->maxval);
		break;
	case KVPROTO_SET:
		fs_put(S, q->key, q->keylen, q->value, q->valuelen);
		len = kvproto_resp_status(buf, 0);
		break;
	case KVPROTO_ADD:
		if (!present)
			fs_put(S, q->key, q->keylen, q->value, q->valuelen);
		len = kvproto_resp_status(buf, present);
		break;
	case KVPROTO_MODIFY:
		if (present)
			fs_put(S, q->key, q->keylen, q->value, q->valuelen);
		len = kvproto_resp_status(buf, !present);
		break;
	case KVPROTO_CAS:
		if (present && fs_eqval(S, i, q->oldval, q->oldvallen)) {
			fs_put(S, q->key, q->keylen, q->value, q->valuelen);
			len = kvproto_resp_status(buf, 0);
		} else
			len = kvproto_resp_status(buf, 1);
		break;
	case KVPROTO_DELETE:
		if (present)
			fs_del(S, i);
		len = kvproto_resp_status(buf, 0);
		break;
	case KVPROTO_CAD:
		if (present && fs_eqval(S, i, q->oldval, q->oldvallen)) {
			fs_del(S, i);
			len = kvproto_resp_status(buf, 0);
		} else
			len = kvproto_resp_status(buf, 1);
		break;
	case KVPROTO_GET:
		len = kvproto_resp_get(buf, present ? S->pairs[i].v : NULL,
		    present ? S->pairs[i].vl : 0);
		break;
	case KVPROTO_RANGE:
		r = kvproto_range_init(q->maxbytes);
		for (; i < S->npairs; i++) {
			if (q->endlen && kcmp(S->pairs[i].k, S->pairs[i].kl,
			    q->end, q->endlen) >= 0)
				break;
			if (kvproto_range_add(r, S->pairs[i].k,
			    S->pairs[i].kl, S->pairs[i].v, S->pairs[i].vl))
				break;
		}
		if (i < S->npairs && !(q->endlen && kcmp(S->pairs[i].k,
		    S->pairs[i].kl, q->end, q->endlen) >= 0))
			kvproto_range_finish(r, S->pairs[i].k,
			    S->pairs[i].kl, &rec, &len);
		else
			kvproto_range_finish(r, NULL, 0, &rec, &len);
		CU_ASSERT_FATAL(S->nheld < FS_MAX);
		S->held[S->nheld] = evbuffer_new();
		packet_evwrite(S->hold ? S->held[S->nheld] : out, id, rec,
		    len);
		if (S->hold)
			S->nheld++;
		else
			evbuffer_free(S->held[S->nheld]);
		kvproto_range_free(r);
		return;
	}
	if (S->garbage && q->type != KVPROTO_PARAMS) {
		evbuffer_add(out, "garbage garbage garbage!", 24);
		return;
	}
	if (S->hold && q->type != KVPROTO_PARAMS) {
		CU_ASSERT_FATAL(S->nheld < FS_MAX);
		S->held[S->nheld] = evbuffer_new();
		packet_evwrite(S->held[S->nheld++], id, rec, len);
	} else
		packet_evwrite(out, id, rec, len);
}

static void
fs_process(void *cookie)
{
	struct fsrv *S = cookie;
	struct evbuffer *in = S->t ? kvclient_transport_input(S->t) :
	    bufferevent_get_input(S->bev);
	struct kvproto_req q;
	const uint8_t *rec;
	uint64_t id;
	size_t len;

	while (packet_evpeek(in, KVPROTO_REQ_MAXLEN, &id, &rec, &len) ==
	    PACKET_OK) {
		CU_ASSERT_FATAL(kvproto_req_parse(rec, len, S->maxkey,
		    S->maxval, &q) == 0);
		S->nreq++;
		if (!S->silent || q.type == KVPROTO_PARAMS)
			fs_answer(S, id, &q);
		packet_evdrain(in, len);
	}
}

/* Send the held responses, last first. */
static void
fsrv_release(struct fsrv *S)
{

	while (S->nheld > 0) {
		S->nheld--;
		evbuffer_add_buffer(fs_out(S),
		    S->held[S->nheld]);
		evbuffer_free(S->held[S->nheld]);
	}
	S->hold = 0;
}

static void
fs_read(struct bufferevent *bev, void *cookie)
{

	(void)bev;
	fs_process(cookie);
}

static void
fs_fail(void *cookie, const char *why)
{
	struct fsrv *S = cookie;

	(void)why;
	S->nfail++;
	/* Hang up, as a real server does. */
	kvclient_transport_free(S->t);
	S->t = NULL;
}

static struct fsrv *
fsrv_new(struct event_base *base, int fd, uint32_t maxkey, uint32_t maxval)
{
	struct fsrv *S = calloc(1, sizeof(*S));

	S->maxkey = maxkey;
	S->maxval = maxval;
	S->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(S->bev, fs_read, NULL, NULL, S);
	bufferevent_enable(S->bev, EV_READ | EV_WRITE);
	return (S);
}

static void
fsrv_free(struct fsrv *S)
{

	while (S->nheld > 0)
		evbuffer_free(S->held[--S->nheld]);
	if (S->bev)
		bufferevent_free(S->bev);
	kvclient_transport_free(S->t);
	free(S->pairs);
	free(S);
}

/* Connect a client to a new fake server in ${base} (NULL: private). */
static struct kvclient *
pair_new(struct event_base **base, struct fsrv **S, uint32_t mk, uint32_t mv)
{
	struct kvclient *K;
	int fd[2];

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
	if (*base == NULL)
		*base = event_base_new();
	*S = fsrv_new(*base, fd[1], mk, mv);
	K = kvclient_open_fd(*base, fd[0], NULL);
	CU_ASSERT_FATAL(K != NULL);
	return (K);
}

static const uint8_t *
u8(const char *s)
{

	return ((const uint8_t *)s);
}

static void
test_params(void)
{
	struct event_base *base = NULL;
	struct fsrv *S;
	struct kvclient *K = pair_new(&base, &S, 40, 100);

	CU_ASSERT_EQUAL(kvclient_maxkey(K), 40);
	CU_ASSERT_EQUAL(kvclient_maxval(K), 100);
	CU_ASSERT_EQUAL(kvclient_pending(K), 0);
	CU_ASSERT_EQUAL(kvclient_failed(K), 0);
	CU_ASSERT_PTR_EQUAL(kvclient_base(K), base);
	kvclient_free(K);
	kvclient_free(NULL);
	fsrv_free(S);
	event_base_free(base);
}

static int
count_pair(void *cookie, const uint8_t *k, size_t kl, const uint8_t *v,
    size_t vl)
{
	size_t *n = cookie;

	(void)k; (void)kl; (void)v; (void)vl;
	(*n)++;
	return (0);
}

static void
test_blocking_all(void)
{
	struct event_base *base = NULL;
	struct fsrv *S;
	struct kvclient *K = pair_new(&base, &S, 255, 255);
	uint8_t v[255];
	size_t vl, n;

	CU_ASSERT_EQUAL(kvclient_get_b(K, u8("a"), 1, v, &vl), KVCLIENT_NO);
	CU_ASSERT_EQUAL(kvclient_set_b(K, u8("a"), 1, u8("b"), 1),
	    KVCLIENT_OK);
	CU_ASSERT_EQUAL(kvclient_get_b(K, u8("a"), 1, v, &vl), KVCLIENT_OK);
	CU_ASSERT(vl == 1 && v[0] == 'b');
	CU_ASSERT_EQUAL(kvclient_add_b(K, u8("a"), 1, u8("c"), 1),
	    KVCLIENT_NO);
	CU_ASSERT_EQUAL(kvclient_add_b(K, u8("x"), 1, u8("y"), 1),
	    KVCLIENT_OK);
	CU_ASSERT_EQUAL(kvclient_modify_b(K, u8("q"), 1, u8("c"), 1),
	    KVCLIENT_NO);
	CU_ASSERT_EQUAL(kvclient_modify_b(K, u8("a"), 1, u8("cc"), 2),
	    KVCLIENT_OK);
	CU_ASSERT_EQUAL(kvclient_cas_b(K, u8("a"), 1, u8("b"), 1, u8("d"), 1),
	    KVCLIENT_NO);
	CU_ASSERT_EQUAL(kvclient_cas_b(K, u8("a"), 1, u8("cc"), 2, u8("d"),
	    1), KVCLIENT_OK);
	CU_ASSERT_EQUAL(kvclient_get_b(K, u8("a"), 1, v, &vl), KVCLIENT_OK);
	CU_ASSERT(vl == 1 && v[0] == 'd');
	CU_ASSERT_EQUAL(kvclient_cad_b(K, u8("a"), 1, u8("e"), 1),
	    KVCLIENT_NO);
	CU_ASSERT_EQUAL(kvclient_cad_b(K, u8("a"), 1, u8("d"), 1),
	    KVCLIENT_OK);
	CU_ASSERT_EQUAL(kvclient_get_b(K, u8("a"), 1, v, &vl), KVCLIENT_NO);
	CU_ASSERT_EQUAL(kvclient_delete_b(K, u8("x"), 1), KVCLIENT_OK);
	CU_ASSERT_EQUAL(kvclient_delete_b(K, u8("x"), 1), KVCLIENT_OK);
	/* Empty key and value are valid. */
	CU_ASSERT_EQUAL(kvclient_set_b(K, NULL, 0, NULL, 0), KVCLIENT_OK);
	CU_ASSERT_EQUAL(kvclient_get_b(K, NULL, 0, v, &vl), KVCLIENT_OK);
	CU_ASSERT_EQUAL(vl, 0);
	n = 0;
	CU_ASSERT_EQUAL(kvclient_range_all_b(K, NULL, 0, NULL, 0, 100,
	    count_pair, &n), KVCLIENT_OK);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(kvclient_pending(K), 0);
	kvclient_free(K);
	fsrv_free(S);
	event_base_free(base);
}

/* The private event_base: kvclient_open_fd(NULL, ...). */
static void
test_private_base(void)
{
	struct event_base *base;
	struct kvclient *K;
	struct fsrv *S;
	int fd[2];
	pid_t pid;

	/*
	 * The fake server must run in the client's loop, which is private
	 * here; so serve it from a forked child with its own loop.
	 */
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
	switch ((pid = fork())) {
	case -1:
		CU_FAIL_FATAL("fork");
		break;
	case 0:
		close(fd[0]);
		base = event_base_new();
		S = fsrv_new(base, fd[1], 255, 255);
		event_base_dispatch(base);
		fsrv_free(S);
		_exit(0);
	default:
		break;
	}
	close(fd[1]);
	K = kvclient_open_fd(NULL, fd[0], NULL);
	CU_ASSERT_FATAL(K != NULL);
	CU_ASSERT_PTR_NOT_NULL(kvclient_base(K));
	CU_ASSERT_EQUAL(kvclient_set_b(K, u8("k"), 1, u8("v"), 1),
	    KVCLIENT_OK);
	kvclient_free(K);
	CU_ASSERT_EQUAL(waitpid(pid, NULL, 0), pid);
}

struct counter {
	size_t ok, no, fail;
	size_t order_errors;
	uint8_t expect;
	struct kvclient *freeme;
};

static void
count_status(void *cookie, int status)
{
	struct counter *c = cookie;

	if (status == KVCLIENT_OK)
		c->ok++;
	else if (status == KVCLIENT_NO)
		c->no++;
	else
		c->fail++;
	if (c->freeme) {
		kvclient_free(c->freeme);
		c->freeme = NULL;
	}
}

static void
count_get(void *cookie, int status, const uint8_t *v, size_t vl)
{
	struct counter *c = cookie;

	if (status == KVCLIENT_OK && (vl != 4 || v[0] != 'v'))
		c->order_errors++;
	count_status(cookie, status);
}

static void
test_many_in_flight(void)
{
	struct event_base *base = NULL;
	struct fsrv *S;
	struct kvclient *K = pair_new(&base, &S, 255, 255);
	struct counter c = { 0 };
	uint8_t k[4], v[4] = { 'v', 0, 0, 0 };
	int i;

	for (i = 0; i < 3000; i++) {
		memcpy(k, &i, 4);
		memcpy(v + 1, &i, 3);
		CU_ASSERT_FATAL(kvclient_set(K, k, 4, v, 4, count_status, &c)
		    == 0);
	}
	CU_ASSERT_EQUAL(kvclient_pending(K), 3000);
	for (i = 0; i < 3100; i++) {
		memcpy(k, &i, 4);
		CU_ASSERT_FATAL(kvclient_get(K, k, 4, count_get, &c) == 0);
	}
	CU_ASSERT_EQUAL(kvclient_wait(K, 0), 0);
	CU_ASSERT_EQUAL(c.ok, 6000);
	CU_ASSERT_EQUAL(c.no, 100);
	CU_ASSERT_EQUAL(c.fail, 0);
	CU_ASSERT_EQUAL(c.order_errors, 0);
	CU_ASSERT_EQUAL(S->npairs, 3000);
	kvclient_free(K);
	fsrv_free(S);
	event_base_free(base);
}

struct ordcheck {
	int idx;
	int *log;
	int *n;
};

static void
ord_cb(void *cookie, int status, const uint8_t *v, size_t vl)
{
	struct ordcheck *o = cookie;

	CU_ASSERT_EQUAL(status, KVCLIENT_OK);
	CU_ASSERT(vl == 1 && v[0] == (uint8_t)('A' + o->idx));
	o->log[(*o->n)++] = o->idx;
}

static void
test_out_of_order(void)
{
	struct event_base *base = NULL;
	struct fsrv *S;
	struct kvclient *K = pair_new(&base, &S, 255, 255);
	struct ordcheck o[10];
	int log[10], n = 0, i;
	uint8_t k, v;

	for (i = 0; i < 10; i++) {
		k = (uint8_t)i;
		v = (uint8_t)('A' + i);
		CU_ASSERT(kvclient_set_b(K, &k, 1, &v, 1) == KVCLIENT_OK);
	}
	S->hold = 1;
	for (i = 0; i < 10; i++) {
		k = (uint8_t)i;
		o[i].idx = i;
		o[i].log = log;
		o[i].n = &n;
		CU_ASSERT(kvclient_get(K, &k, 1, ord_cb, &o[i]) == 0);
	}
	while (S->nheld < 10)
		event_base_loop(base, EVLOOP_ONCE);
	fsrv_release(S);
	CU_ASSERT_EQUAL(kvclient_wait(K, 0), 0);
	CU_ASSERT_EQUAL_FATAL(n, 10);
	for (i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(log[i], 9 - i);
	kvclient_free(K);
	fsrv_free(S);
	event_base_free(base);
}

static void
test_limits(void)
{
	struct event_base *base = NULL;
	struct fsrv *S;
	struct kvclient *K = pair_new(&base, &S, 8, 16);
	uint8_t big[32] = { 0 };
	struct counter c = { 0 };
	size_t nreq;

	fprintf(stderr, "(two 'too long' warnings expected)\n");
	nreq = S->nreq;
	errno = 0;
	CU_ASSERT_EQUAL(kvclient_set(K, big, 9, big, 1, count_status, &c),
	    -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(kvclient_set_b(K, big, 8, big, 17), KVCLIENT_FAIL);
	/* Nothing was sent, the connection is fine. */
	CU_ASSERT_EQUAL(kvclient_set_b(K, big, 8, big, 16), KVCLIENT_OK);
	CU_ASSERT_EQUAL(S->nreq, nreq + 1);
	CU_ASSERT_EQUAL(c.ok + c.no + c.fail, 0);
	CU_ASSERT_EQUAL(kvclient_failed(K), 0);
	kvclient_free(K);
	fsrv_free(S);
	event_base_free(base);
}

struct rcheck {
	size_t n;
	int bad;
	uint8_t lastk[4];
	int stopat;
};

static int
rcheck_pair(void *cookie, const uint8_t *k, size_t kl, const uint8_t *v,
    size_t vl)
{
	struct rcheck *r = cookie;
	uint32_t want = (uint32_t)r->n + 100;
	uint8_t wk[4] = { want >> 24, want >> 16, want >> 8, want };

	if (kl != 4 || memcmp(k, wk, 4) || vl != 4 || memcmp(v, wk, 4))
		r->bad++;
	r->n++;
	return (r->stopat && (int)r->n == r->stopat);
}

static void
test_range(void)
{
	struct event_base *base = NULL;
	struct fsrv *S;
	struct kvclient *K = pair_new(&base, &S, 255, 255);
	struct counter c = { 0 };
	struct rcheck r = { 0 };
	uint8_t k[4], end[4] = { 0, 0, 3, 0xe8 };	/* 1000 */
	uint32_t i;

	for (i = 0; i < 1100; i++) {
		k[0] = i >> 24; k[1] = i >> 16; k[2] = i >> 8; k[3] = i;
		kvclient_set(K, k, 4, k, 4, count_status, &c);
	}
	kvclient_wait(K, 0);
	CU_ASSERT_EQUAL(c.ok, 1100);

	/* [100, 1000) in 10-pair pieces (10 bytes per pair). */
	k[0] = 0; k[1] = 0; k[2] = 0; k[3] = 100;
	CU_ASSERT_EQUAL(kvclient_range_all_b(K, k, 4, end, 4, 100,
	    rcheck_pair, &r), KVCLIENT_OK);
	CU_ASSERT_EQUAL(r.n, 900);
	CU_ASSERT_EQUAL(r.bad, 0);

	/* Max bytes 0 still progresses one pair at a time. */
	memset(&r, 0, sizeof(r));
	end[2] = 0; end[3] = 150;
	CU_ASSERT_EQUAL(kvclient_range_all_b(K, k, 4, end, 4, 0,
	    rcheck_pair, &r), KVCLIENT_OK);
	CU_ASSERT_EQUAL(r.n, 50);

	/* To the end of the store, stopping early. */
	memset(&r, 0, sizeof(r));
	r.stopat = 500;
	CU_ASSERT_EQUAL(kvclient_range_all_b(K, k, 4, NULL, 0, 4096,
	    rcheck_pair, &r), KVCLIENT_NO);
	CU_ASSERT_EQUAL(r.n, 500);
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(kvclient_range_all_b(K, k, 4, NULL, 0, 1 << 16,
	    rcheck_pair, &r), KVCLIENT_OK);
	CU_ASSERT_EQUAL(r.n, 1000);
	CU_ASSERT_EQUAL(r.bad, 0);
	kvclient_free(K);
	fsrv_free(S);
	event_base_free(base);
}

static void
test_dropped(void)
{
	struct event_base *base = NULL;
	struct fsrv *S;
	struct kvclient *K = pair_new(&base, &S, 255, 255);
	struct counter c = { 0 };
	uint8_t k = 1;
	int i;

	S->silent = 1;
	for (i = 0; i < 100; i++)
		CU_ASSERT(kvclient_set(K, &k, 1, &k, 1, count_status, &c) ==
		    0);
	for (i = 0; i < 20; i++)
		CU_ASSERT(kvclient_get(K, &k, 1, count_get, &c) == 0);
	while (S->nreq < 121)
		event_base_loop(base, EVLOOP_ONCE);
	bufferevent_free(S->bev);
	S->bev = NULL;
	fprintf(stderr, "(a 'connection failed' warning is expected)\n");
	CU_ASSERT_EQUAL(kvclient_wait(K, 0), -1);
	CU_ASSERT_EQUAL(c.fail, 120);
	CU_ASSERT_EQUAL(c.ok + c.no, 0);
	CU_ASSERT_EQUAL(kvclient_pending(K), 0);
	CU_ASSERT(kvclient_failed(K));
	errno = 0;
	CU_ASSERT_EQUAL(kvclient_set(K, &k, 1, &k, 1, count_status, &c), -1);
	CU_ASSERT_EQUAL(errno, EPIPE);
	CU_ASSERT_EQUAL(kvclient_get_b(K, &k, 1, NULL, NULL), KVCLIENT_FAIL);
	kvclient_free(K);
	fsrv_free(S);
	event_base_free(base);
}

static void
test_garbage(void)
{
	struct event_base *base = NULL;
	struct fsrv *S;
	struct kvclient *K = pair_new(&base, &S, 255, 255);
	struct counter c = { 0 };
	uint8_t k = 1;

	S->garbage = 1;
	fprintf(stderr, "(a 'connection failed' warning is expected)\n");
	CU_ASSERT(kvclient_set(K, &k, 1, &k, 1, count_status, &c) == 0);
	CU_ASSERT(kvclient_set(K, &k, 1, &k, 1, count_status, &c) == 0);
	CU_ASSERT_EQUAL(kvclient_wait(K, 0), -1);
	CU_ASSERT_EQUAL(c.fail, 2);
	kvclient_free(K);
	fsrv_free(S);
	event_base_free(base);
}

/* kvclient_free() from inside a callback, with requests outstanding. */
static void
test_free_in_callback(void)
{
	struct event_base *base = NULL;
	struct fsrv *S;
	struct kvclient *K = pair_new(&base, &S, 255, 255);
	struct counter c = { 0 };
	uint8_t k = 1;
	int i;

	c.freeme = K;
	for (i = 0; i < 50; i++)
		CU_ASSERT(kvclient_set(K, &k, 1, &k, 1, count_status, &c) ==
		    0);
	while (c.ok == 0)
		event_base_loop(base, EVLOOP_ONCE);
	/* Let the rest of the responses arrive at a freed client: none. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	CU_ASSERT_EQUAL(c.ok, 1);
	CU_ASSERT_EQUAL(c.fail, 0);
	fsrv_free(S);
	event_base_free(base);
}

/* A fake server speaking spiped (server side) under key ${K}. */
static struct fsrv *
fsrv_spiped(struct event_base *base, int fd, const uint8_t *K, int flags)
{
	static const struct kvclient_transport_cbs cbs = {
		fs_process, fs_fail
	};
	struct fsrv *S = calloc(1, sizeof(*S));

	S->maxkey = S->maxval = 255;
	S->t = kvclient_transport_spiped(base, fd, K, PROTO_HS_SERVER | flags,
	    &cbs, S);
	CU_ASSERT_FATAL(S->t != NULL);
	return (S);
}

static void
test_spiped(void)
{
	static const uint8_t K[32] = { 1, 2, 3 };
	struct event_base *base = event_base_new();
	struct kvclient_opts o = { K, 0, 0 };
	struct counter c = { 0 };
	struct rcheck r = { 0 };
	struct kvclient *K1;
	struct fsrv *S;
	uint8_t k[4], v[255];
	size_t vl;
	uint32_t i;
	int fd[2];

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
	S = fsrv_spiped(base, fd[1], K, 0);
	K1 = kvclient_open_fd(base, fd[0], &o);
	CU_ASSERT_FATAL(K1 != NULL);
	CU_ASSERT_EQUAL(kvclient_maxkey(K1), 255);

	/* Many requests in one pass: several spiped packets at once. */
	for (i = 0; i < 1100; i++) {
		k[0] = i >> 24; k[1] = i >> 16; k[2] = i >> 8; k[3] = i;
		CU_ASSERT(kvclient_set(K1, k, 4, k, 4, count_status, &c) == 0);
	}
	CU_ASSERT_EQUAL(kvclient_wait(K1, 0), 0);
	CU_ASSERT_EQUAL(c.ok, 1100);
	CU_ASSERT_EQUAL(kvclient_get_b(K1, k, 4, v, &vl), KVCLIENT_OK);
	CU_ASSERT(vl == 4 && memcmp(v, k, 4) == 0);
	k[0] = 0; k[1] = 0; k[2] = 0; k[3] = 100;
	CU_ASSERT_EQUAL(kvclient_range_all_b(K1, k, 4, NULL, 0, 1 << 16,
	    rcheck_pair, &r), KVCLIENT_OK);
	CU_ASSERT_EQUAL(r.n, 1000);
	CU_ASSERT_EQUAL(r.bad, 0);
	CU_ASSERT_EQUAL(S->nfail, 0);
	kvclient_free(K1);
	fsrv_free(S);

	/* Without forward secrecy on the client side. */
	o.nopfs = 1;
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
	S = fsrv_spiped(base, fd[1], K, 0);
	K1 = kvclient_open_fd(base, fd[0], &o);
	CU_ASSERT_FATAL(K1 != NULL);
	CU_ASSERT_EQUAL(kvclient_set_b(K1, u8("a"), 1, u8("b"), 1),
	    KVCLIENT_OK);
	kvclient_free(K1);
	fsrv_free(S);
	event_base_free(base);
}

static void
test_spiped_wrong_key(void)
{
	static const uint8_t K[32] = { 1, 2, 3 }, K2[32] = { 1, 2, 4 };
	struct event_base *base = event_base_new();
	struct kvclient_opts o = { K, 0, 0 };
	struct fsrv *S;
	int fd[2];

	fprintf(stderr, "(two handshake failures expected)\n");
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
	S = fsrv_spiped(base, fd[1], K2, 0);
	CU_ASSERT_PTR_NULL(kvclient_open_fd(base, fd[0], &o));
	fsrv_free(S);

	/* A server requiring forward secrecy refuses a -f client. */
	o.nopfs = 1;
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
	S = fsrv_spiped(base, fd[1], K, PROTO_HS_REQPFS);
	CU_ASSERT_PTR_NULL(kvclient_open_fd(base, fd[0], &o));
	fsrv_free(S);
	event_base_free(base);
}

static void
test_open_errors(void)
{
	struct kvclient_opts o;
	static const uint8_t key[32];
	int fd[2];

	fprintf(stderr, "(three errors expected)\n");
	CU_ASSERT_PTR_NULL(kvclient_open(NULL, "/nonexistent/kvlds.sock",
	    NULL));
	/* A peer that closes at once: no PARAMS. */
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
	close(fd[1]);
	CU_ASSERT_PTR_NULL(kvclient_open_fd(NULL, fd[0], NULL));
	/* ... nor a spiped handshake. */
	memset(&o, 0, sizeof(o));
	o.key = key;
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
	close(fd[1]);
	CU_ASSERT_PTR_NULL(kvclient_open_fd(NULL, fd[0], &o));
}

UNIT_MAIN("kvclient",
    { "params at connect", test_params },
    { "blocking calls, all requests", test_blocking_all },
    { "private event_base", test_private_base },
    { "many requests in flight", test_many_in_flight },
    { "responses out of order", test_out_of_order },
    { "limits checked before sending", test_limits },
    { "range iteration", test_range },
    { "dropped connection fails all", test_dropped },
    { "malformed response", test_garbage },
    { "free from a callback", test_free_in_callback },
    { "open errors", test_open_errors },
    { "spiped transport", test_spiped },
    { "spiped wrong key", test_spiped_wrong_key })
