/*
 * test_dispatch: the kvlds daemon modules without a process: the group
 * commit cycle (commit.c) over a real store, and the dispatcher
 * (dispatch.c) serving a Unix socket from a thread while the test talks
 * to it as a client.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "kvproto/kvproto.h"
#include "log/log.h"
#include "packet/packet.h"
#include "sock/sock.h"

#include "kvlds/btree.h"
#include "kvlds/commit.h"
#include "kvlds/dispatch.h"

#include "unit.h"

static char tmpdir[] = "/tmp/test_dispatch.XXXXXX";

static struct btree *
open_store(const char *name)
{
	struct btree_opts o;
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	o.dir = path;
	o.pagesize = 4096;
	o.cachebytes = 1 << 20;
	o.costratio = 1.0;
	return (btree_open(&o));
}

/* ---------------------------------------------------------------- commit */

struct cstate {
	int began;
	int done;
	int status;
};

static void
t_began(void *cookie)
{
	struct cstate *s = cookie;

	s->began++;
}

static void
t_done(void *cookie, int status)
{
	struct cstate *s = cookie;

	s->done++;
	s->status = status;
}

static const struct commit_cbs t_cbs = { t_began, t_done };

/* Run the loop until ${s}->done reaches ${n} (at most ~5 s). */
static void
loop_until_done(struct event_base *base, struct cstate *s, int n)
{
	struct timeval tv = {0, 10000};
	int i;

	for (i = 0; i < 500 && s->done < n; i++) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
test_commit_cycle(void)
{
	struct event_base *base;
	struct btree *bt;
	struct commit *C;
	struct cstate s = {0, 0, 0};
	const uint8_t *v;
	size_t vl;
	double t0;

	CU_ASSERT_FATAL((base = event_base_new()) != NULL);
	CU_ASSERT_FATAL((bt = open_store("commit")) != NULL);
	CU_ASSERT_FATAL((C = commit_init(base, bt, 0.1, 3, &t_cbs, &s)) !=
	    NULL);

	/* Nothing pending: nothing starts. */
	commit_poke(C, 0);
	CU_ASSERT_EQUAL(s.began, 0);
	CU_ASSERT_FALSE(commit_inflight(C));

	/* One pending, delay 0.1 s: the timer starts the commit. */
	CU_ASSERT_EQUAL(btree_set(bt, (const uint8_t *)"a", 1,
	    (const uint8_t *)"1", 1), 0);
	t0 = now();
	commit_poke(C, 0);
	CU_ASSERT_EQUAL(s.began, 0);
	loop_until_done(base, &s, 1);
	CU_ASSERT_EQUAL(s.began, 1);
	CU_ASSERT_EQUAL(s.done, 1);
	CU_ASSERT_EQUAL(s.status, 0);
	CU_ASSERT(now() - t0 >= 0.09);
	CU_ASSERT_EQUAL(commit_count(C), 1);
	CU_ASSERT_EQUAL(btree_get(bt, (const uint8_t *)"a", 1, &v, &vl), 0);
	CU_ASSERT(vl == 1 && v[0] == '1');

	/* Three pending reach the forced size: the commit starts at once. */
	CU_ASSERT_EQUAL(btree_set(bt, (const uint8_t *)"b", 1,
	    (const uint8_t *)"2", 1), 0);
	CU_ASSERT_EQUAL(btree_set(bt, (const uint8_t *)"c", 1,
	    (const uint8_t *)"3", 1), 0);
	commit_poke(C, 0);
	CU_ASSERT_EQUAL(s.began, 1);
	CU_ASSERT_EQUAL(btree_delete(bt, (const uint8_t *)"a", 1), 0);
	commit_poke(C, 0);
	CU_ASSERT_EQUAL(s.began, 2);
	CU_ASSERT_TRUE(commit_inflight(C));
	/* Reads see the committed tree until the commit completes. */
	CU_ASSERT_EQUAL(btree_get(bt, (const uint8_t *)"a", 1, &v, &vl), 0);
	/* A poke while in flight does nothing. */
	CU_ASSERT_EQUAL(btree_set(bt, (const uint8_t *)"d", 1,
	    (const uint8_t *)"4", 1), 0);
	commit_poke(C, 1);
	CU_ASSERT_EQUAL(s.began, 2);
	loop_until_done(base, &s, 2);
	CU_ASSERT_EQUAL(s.done, 2);
	CU_ASSERT_EQUAL(btree_get(bt, (const uint8_t *)"a", 1, &v, &vl), 1);
	CU_ASSERT_EQUAL(btree_get(bt, (const uint8_t *)"d", 1, &v, &vl), 1);

	/* "now" ignores the delay. */
	commit_poke(C, 1);
	CU_ASSERT_EQUAL(s.began, 3);
	loop_until_done(base, &s, 3);
	CU_ASSERT_EQUAL(btree_get(bt, (const uint8_t *)"d", 1, &v, &vl), 0);

	commit_free(C);
	commit_free(NULL);
	btree_close(bt);
	event_base_free(base);
}

/* ---------------------------------------------------------------- dispatch */

struct server {
	struct event_base *base;
	struct dispatch *D;
	int rc;
};

static void *
server_main(void *cookie)
{
	struct server *S = cookie;

	S->rc = dispatch_run(S->D);
	return (NULL);
}

static int
client_connect(const char *path)
{
	struct sockaddr_un sun;
	int s;

	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return (-1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun))) {
		close(s);
		return (-1);
	}
	return (s);
}

/* Append request ${req} with ID ${id} to ${buf} at *${len}. */
static void
put_req(uint8_t *buf, size_t *len, uint64_t id, const struct kvproto_req *req)
{
	uint8_t rec[KVPROTO_REQ_MAXLEN];
	ssize_t rl;

	rl = kvproto_req_encode(req, rec, sizeof(rec));
	CU_ASSERT_FATAL(rl > 0);
	*len += packet_encode(buf + *len, id, rec, (size_t)rl);
}

/* Read one response packet; return its record length, or -1 on EOF. */
static ssize_t
get_resp(int s, uint8_t *buf, size_t *have, uint64_t *id, uint8_t *rec)
{
	const uint8_t *r;
	size_t rl;
	ssize_t n;
	int p;

	for (;;) {
		p = packet_parse(buf, *have, 1 << 20, id, &r, &rl);
		CU_ASSERT_FATAL(p >= 0);
		if (p == PACKET_OK) {
			memcpy(rec, r, rl);
			*have -= rl + PACKET_OVERHEAD;
			memmove(buf, buf + rl + PACKET_OVERHEAD, *have);
			return ((ssize_t)rl);
		}
		if ((n = read(s, buf + *have, 65536 - *have)) <= 0)
			return (-1);
		*have += (size_t)n;
	}
}

static void
test_dispatch_serves(void)
{
	struct server S;
	struct dispatch_opts o;
	struct sock_addr **sa;
	struct btree *bt;
	struct kvproto_req req;
	struct kvproto_resp resp;
	pthread_t thr;
	char path[256];
	uint8_t out[4096], in[65536], rec[65536];
	size_t olen = 0, have = 0;
	uint64_t id;
	ssize_t rl;
	int lfd, a, b, i, seen = 0;

	snprintf(path, sizeof(path), "%s/kv.sock", tmpdir);
	CU_ASSERT_FATAL((sa = sock_resolve(path)) != NULL);
	CU_ASSERT_FATAL((lfd = sock_listen(sa[0], -1)) != -1);
	CU_ASSERT_FATAL((bt = open_store("dispatch")) != NULL);
	CU_ASSERT_FATAL((S.base = event_base_new()) != NULL);
	memset(&o, 0, sizeof(o));
	o.maxkey = 100;
	o.maxval = 200;
	o.maxconns = 10;
	o.once = 1;
	CU_ASSERT_FATAL((S.D = dispatch_init(S.base, bt, &lfd, 1, &o)) !=
	    NULL);
	CU_ASSERT_FATAL(pthread_create(&thr, NULL, server_main, &S) == 0);

	/* Pipelined: PARAMS, SET, ADD of the same key, MODIFY of another. */
	CU_ASSERT_FATAL((a = client_connect(path)) != -1);
	memset(&req, 0, sizeof(req));
	req.type = KVPROTO_PARAMS;
	put_req(out, &olen, 1, &req);
	req.type = KVPROTO_SET;
	req.key = (const uint8_t *)"key";
	req.keylen = 3;
	req.value = (const uint8_t *)"value";
	req.valuelen = 5;
	put_req(out, &olen, 2, &req);
	req.type = KVPROTO_ADD;
	put_req(out, &olen, 3, &req);
	req.type = KVPROTO_MODIFY;
	req.key = (const uint8_t *)"nokey";
	req.keylen = 5;
	put_req(out, &olen, 4, &req);
	CU_ASSERT_FATAL(write(a, out, olen) == (ssize_t)olen);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_FATAL((rl = get_resp(a, in, &have, &id, rec)) >= 0);
		CU_ASSERT_FATAL(id >= 1 && id <= 4);
		seen |= 1 << id;
		switch (id) {
		case 1:
			CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_PARAMS, rec,
			    (size_t)rl, &resp), 0);
			CU_ASSERT_EQUAL(resp.maxkey, 100);
			CU_ASSERT_EQUAL(resp.maxval, 200);
			break;
		default:
			CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_ADD, rec,
			    (size_t)rl, &resp), 0);
			CU_ASSERT_EQUAL(resp.status, id == 2 ? 0U : 1U);
		}
	}
	CU_ASSERT_EQUAL(seen, 0x1e);

	/* The SET was acknowledged: a GET sees it. */
	olen = 0;
	req.type = KVPROTO_GET;
	req.key = (const uint8_t *)"key";
	req.keylen = 3;
	put_req(out, &olen, 5, &req);
	CU_ASSERT_FATAL(write(a, out, olen) == (ssize_t)olen);
	CU_ASSERT_FATAL((rl = get_resp(a, in, &have, &id, rec)) >= 0);
	CU_ASSERT_EQUAL(id, 5);
	CU_ASSERT_EQUAL(kvproto_resp_parse(KVPROTO_GET, rec, (size_t)rl,
	    &resp), 0);
	CU_ASSERT(resp.status == 0 && resp.valuelen == 5 &&
	    memcmp(resp.value, "value", 5) == 0);

	/*
	 * A key over the limit drops that connection; under "once" that
	 * first close shuts the dispatcher down cleanly.
	 */
	CU_ASSERT_FATAL((b = client_connect(path)) != -1);
	olen = 0;
	memset(rec, 'k', 101);
	req.type = KVPROTO_SET;
	req.key = rec;
	req.keylen = 101;
	put_req(out, &olen, 9, &req);
	CU_ASSERT_FATAL(write(b, out, olen) == (ssize_t)olen);
	CU_ASSERT_EQUAL(read(b, in, sizeof(in)), 0);
	pthread_join(thr, NULL);
	CU_ASSERT_EQUAL(S.rc, 0);
	dispatch_free(S.D);
	dispatch_free(NULL);
	have = 0;
	CU_ASSERT_EQUAL(get_resp(a, in, &have, &id, rec), -1);
	close(a);
	close(b);
	event_base_free(S.base);
	btree_close(bt);
	unlink(path);
	sock_addr_freelist(sa);

	/* What was acknowledged is in the store. */
	CU_ASSERT_FATAL((bt = open_store("dispatch")) != NULL);
	CU_ASSERT_EQUAL(btree_get(bt, (const uint8_t *)"key", 3,
	    (const uint8_t **)&req.value, &req.valuelen), 0);
	btree_close(bt);
}

UNIT_MAIN("dispatch",
    { "group commit cycle", test_commit_cycle },
    { "dispatcher serves, drops, shuts down", test_dispatch_serves })

__attribute__((constructor)) static void
setup(void)
{

	log_init("test_dispatch");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
}

__attribute__((destructor)) static void
teardown(void)
{
	char cmd[128];

	/* The stores' files: the directory is ours alone. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_dispatch: cannot remove %s\n", tmpdir);
}
