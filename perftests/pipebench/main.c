/*
 * pipebench: traffic ends for testing and benchmarking spiped.
 *
 *	pipebench echo -s ADDR		echo server (a thread per connection)
 *	pipebench sink -s ADDR [-l LOG] [-q]	reads until end of file, then answers
 *					"<bytes> <sha256>\n" (also appended
 *					to LOG) and closes
 *	pipebench send -t ADDR -n BYTES [-c CONNS] [-e] [-q] [-S SEED]
 *					sends BYTES of seeded pseudo-random
 *					data on each of CONNS connections at
 *					once, half-closes, and checks the
 *					sink's answer (or, with -e, the echo)
 *					against the SHA-256 of what it sent;
 *					prints the throughput
 *	pipebench hs -t ADDR -n COUNT	COUNT sequential connections, each
 *					sending one byte to an echo server and
 *					reading it back; prints connections/s
 *	pipebench gen -n BYTES [-S SEED]	the same data on standard output
 *	pipebench evil -t ADDR -k KEYFILE -m MODE
 *					a misbehaving spiped client (for the
 *					tests): MODE is ok, wrongkey, yp,
 *					truncate, tamper, replay, len0 or
 *					len1025; prints "dropped" if the server
 *					closed the connection, else "open"
 *
 * -q (benchmarks): neither end hashes; the sender repeats one buffer and
 * the sink answers "<bytes> -", so only the byte count is checked.
 *
 * Exit status 0 when every check held, 1 otherwise.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log/log.h"
#include "pcrypt/pcrypt.h"
#include "proto/proto_crypt.h"
#include "parse/parse.h"
#include "sock/sock.h"

#define BUFLEN	(256 * 1024)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

/* Deterministic fast data: xorshift64* seeded per stream. */
struct gen {
	uint64_t x;
};

static void
gen_init(struct gen *g, uint64_t seed)
{

	g->x = seed * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL;
	if (g->x == 0)
		g->x = 1;
}

static void
gen_fill(struct gen *g, uint8_t *buf, size_t len)
{
	uint64_t v;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		g->x ^= g->x >> 12;
		g->x ^= g->x << 25;
		g->x ^= g->x >> 27;
		v = g->x * 0x2545f4914f6cdd1dULL;
		memcpy(buf + i, &v, 8);
	}
	for (; i < len; i++)
		buf[i] = (uint8_t)(g->x >> (i % 8));
}

static void
hexout(const uint8_t *h, char *out)
{
	int i;

	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static int
set_blocking(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		warnp("fcntl");
		return (-1);
	}
	return (0);
}

static int
listen_on(const char *addr)
{
	struct sock_addr **sas;
	int s;

	if ((sas = sock_resolve(addr)) == NULL)
		return (-1);
	s = sock_listen(sas[0], 0666);
	sock_addr_freelist(sas);
	if (s == -1 || set_blocking(s))
		return (-1);
	return (s);
}

static int
connect_to(const char *addr)
{
	struct sock_addr **sas;
	int s;

	if ((sas = sock_resolve(addr)) == NULL)
		return (-1);
	s = sock_connect(sas);
	sock_addr_freelist(sas);
	if (s == -1)
		warnp("connect %s", addr);
	return (s);
}

/* ------------------------------------------------------------ servers */

static const char *sink_log;

/* -q: no hashing (benchmarks): the data is counted, not checked. */
static int quick;
static pthread_mutex_t log_mtx = PTHREAD_MUTEX_INITIALIZER;

static void *
echo_conn(void *cookie)
{
	int c = (int)(intptr_t)cookie;
	uint8_t *buf;
	ssize_t n;

	if ((buf = malloc(BUFLEN)) == NULL)
		goto done;
	while ((n = read(c, buf, BUFLEN)) > 0)
		if (sock_write_all(c, buf, (size_t)n))
			break;
	shutdown(c, SHUT_WR);
	free(buf);
done:
	close(c);
	return (NULL);
}

static void *
sink_conn(void *cookie)
{
	int c = (int)(intptr_t)cookie;
	EVP_MD_CTX *ctx;
	uint8_t *buf, h[32];
	char line[128], hex[65];
	uint64_t total = 0;
	ssize_t n;
	FILE *f;

	if ((buf = malloc(BUFLEN)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL)
		goto done;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = read(c, buf, BUFLEN)) > 0) {
		if (!quick)
			EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += (uint64_t)n;
	}
	EVP_DigestFinal_ex(ctx, h, NULL);
	EVP_MD_CTX_free(ctx);
	hexout(h, hex);
	if (quick)
		strcpy(hex, "-");
	snprintf(line, sizeof(line), "%llu %s\n", (unsigned long long)total,
	    hex);
	/* Log before answering, so the log is complete when a client is. */
	if (sink_log != NULL) {
		pthread_mutex_lock(&log_mtx);
		if ((f = fopen(sink_log, "a")) != NULL) {
			fputs(n == 0 ? line : "error\n", f);
			fclose(f);
		}
		pthread_mutex_unlock(&log_mtx);
	}
	if (n == 0)
		sock_write_all(c, (const uint8_t *)line, strlen(line));
done:
	free(buf);
	close(c);
	return (NULL);
}

static int
serve(const char *addr, void *(*fn)(void *))
{
	pthread_attr_t attr;
	pthread_t t;
	int s, c;

	if ((s = listen_on(addr)) == -1)
		return (1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		if ((c = accept4(s, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			warnp("accept");
			return (1);
		}
		if (pthread_create(&t, &attr, fn, (void *)(intptr_t)c)) {
			warn0("pthread_create");
			close(c);
		}
	}
}

/* ------------------------------------------------------------ clients */

struct sender {
	const char *addr;
	uint64_t bytes;
	uint64_t seed;
	int echo;
	int ok;
	char hex[65];
	pthread_t t;
};

/* Read the echo of what ${s} sends and hash it. */
struct echoread {
	int fd;
	uint64_t got;
	uint8_t h[32];
	int ok;
};

static void *
echo_reader(void *cookie)
{
	struct echoread *er = cookie;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t *buf = malloc(BUFLEN);
	ssize_t n;

	if (ctx == NULL || buf == NULL)
		goto done;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = read(er->fd, buf, BUFLEN)) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		er->got += (uint64_t)n;
	}
	EVP_DigestFinal_ex(ctx, er->h, NULL);
	er->ok = (n == 0);
done:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return (NULL);
}

static void *
send_one(void *cookie)
{
	struct sender *sd = cookie;
	struct echoread er = { -1, 0, { 0 }, 0 };
	pthread_t rt;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t *buf = malloc(BUFLEN), h[32];
	char reply[128], want[128], rhex[65];
	struct gen g;
	uint64_t left;
	size_t len;
	ssize_t n;
	int s;

	sd->ok = 0;
	if (ctx == NULL || buf == NULL)
		goto done;
	if ((s = connect_to(sd->addr)) == -1)
		goto done;
	memset(&rt, 0, sizeof(rt));
	if (sd->echo) {
		er.fd = s;
		if (pthread_create(&rt, NULL, echo_reader, &er))
			goto done1;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	gen_init(&g, sd->seed);
	if (quick)
		gen_fill(&g, buf, BUFLEN);
	for (left = sd->bytes; left > 0; left -= len) {
		len = left < BUFLEN ? (size_t)left : BUFLEN;
		if (!quick) {
			gen_fill(&g, buf, len);
			EVP_DigestUpdate(ctx, buf, len);
		}
		if (sock_write_all(s, buf, len)) {
			warnp("write");
			break;
		}
	}
	shutdown(s, SHUT_WR);
	EVP_DigestFinal_ex(ctx, h, NULL);
	hexout(h, sd->hex);
	if (quick)
		strcpy(sd->hex, "-");
	snprintf(want, sizeof(want), "%llu %s\n",
	    (unsigned long long)sd->bytes, sd->hex);
	if (sd->echo) {
		pthread_join(rt, NULL);
		hexout(er.h, rhex);
		sd->ok = er.ok && er.got == sd->bytes &&
		    strcmp(rhex, sd->hex) == 0;
		if (!sd->ok)
			warn0("echo mismatch: got %llu bytes %s",
			    (unsigned long long)er.got, rhex);
	} else {
		len = 0;
		while (len < sizeof(reply) - 1 &&
		    (n = read(s, reply + len, sizeof(reply) - 1 - len)) > 0)
			len += (size_t)n;
		reply[len] = '\0';
		sd->ok = strcmp(reply, want) == 0;
		if (!sd->ok)
			warn0("sink answered \"%.*s\", expected \"%.*s\"",
			    (int)strcspn(reply, "\n"), reply,
			    (int)strcspn(want, "\n"), want);
	}
done1:
	close(s);
done:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return (NULL);
}

static int
cmd_send(const char *addr, uint64_t bytes, int conns, int echo,
    uint64_t seed)
{
	struct sender *sd;
	double t0, t;
	int i, ok = 1;

	if ((sd = calloc((size_t)conns, sizeof(*sd))) == NULL)
		return (1);
	t0 = now();
	for (i = 0; i < conns; i++) {
		sd[i].addr = addr;
		sd[i].bytes = bytes;
		sd[i].seed = seed + (uint64_t)i;
		sd[i].echo = echo;
		if (pthread_create(&sd[i].t, NULL, send_one, &sd[i]))
			return (1);
	}
	for (i = 0; i < conns; i++) {
		pthread_join(sd[i].t, NULL);
		ok &= sd[i].ok;
	}
	t = now() - t0;
	printf("bytes=%llu conns=%d secs=%.3f MiB/s=%.1f sha256=%s %s\n",
	    (unsigned long long)bytes * (unsigned long long)conns, conns, t,
	    (double)bytes * conns / t / 1048576.0, sd[0].hex,
	    ok ? "ok" : "MISMATCH");
	free(sd);
	return (ok ? 0 : 1);
}

static int
cmd_hs(const char *addr, int count)
{
	struct sock_addr **sas;
	double t0, t;
	uint8_t b = 'x';
	int i, s;

	if ((sas = sock_resolve(addr)) == NULL)
		return (1);
	t0 = now();
	for (i = 0; i < count; i++) {
		if ((s = sock_connect(sas)) == -1) {
			warnp("connect");
			return (1);
		}
		if (write(s, &b, 1) != 1 || read(s, &b, 1) != 1) {
			warnp("connection %d failed", i);
			return (1);
		}
		close(s);
	}
	t = now() - t0;
	sock_addr_freelist(sas);
	printf("connections=%d secs=%.3f conn/s=%.1f\n", count, t,
	    count / t);
	return (0);
}

static int
cmd_gen(uint64_t bytes, uint64_t seed)
{
	uint8_t *buf = malloc(BUFLEN);
	struct gen g;
	size_t len;

	if (buf == NULL)
		return (1);
	gen_init(&g, seed);
	for (; bytes > 0; bytes -= len) {
		len = bytes < BUFLEN ? (size_t)bytes : BUFLEN;
		gen_fill(&g, buf, len);
		if (sock_write_all(1, buf, len)) {
			free(buf);
			return (1);
		}
	}
	free(buf);
	return (0);
}

/* ------------------------------------------------------------ evil */

static int
read_full(int fd, uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, buf, len)) <= 0)
			return (-1);
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Packet ${pn} carrying ${data} with the length field ${lenfield}. */
static void
forge(const uint8_t *dk, uint64_t pn, const uint8_t *data, size_t dlen,
    uint32_t lenfield, uint8_t pkt[PROTO_PKT_LEN])
{
	struct pcrypt_aesctr *a;
	uint8_t iv[16], m[1036];
	int i;

	memset(pkt, 0, 1028);
	memcpy(pkt, data, dlen);
	pkt[1024] = (uint8_t)(lenfield >> 24);
	pkt[1025] = (uint8_t)(lenfield >> 16);
	pkt[1026] = (uint8_t)(lenfield >> 8);
	pkt[1027] = (uint8_t)lenfield;
	memset(iv, 0, sizeof(iv));
	for (i = 0; i < 8; i++)
		iv[i] = (uint8_t)(pn >> (56 - 8 * i));
	if ((a = pcrypt_aesctr_new(dk)) == NULL ||
	    pcrypt_aesctr_crypt(a, iv, pkt, pkt, 1028))
		exit(1);
	pcrypt_aesctr_free(a);
	memcpy(m, pkt, 1028);
	memcpy(m + 1028, iv, 8);
	pcrypt_hmac_sha256(dk + 32, 32, m, sizeof(m), pkt + 1028);
}

/*
 * A client speaking the protocol by hand without forward secrecy (x = 0,
 * so y_SC = 1 whatever the server does), misbehaving as ${mode} says.
 */
static int
cmd_evil(const char *addr, const char *keypath, const char *mode)
{
	uint8_t K[32], nc[32], ns[32], dhmac[64], msg[288], dk[128];
	uint8_t one[256], pkt[PROTO_PKT_LEN], buf[4096];
	uint8_t kf[4096];
	ssize_t n;
	FILE *f;
	size_t kl;
	int s;

	if ((f = fopen(keypath, "rb")) == NULL) {
		warnp("%s", keypath);
		return (1);
	}
	kl = fread(kf, 1, sizeof(kf), f);
	fclose(f);
	pcrypt_sha256(kf, kl, K);
	if (strcmp(mode, "wrongkey") == 0)
		K[0] ^= 1;
	if ((s = connect_to(addr)) == -1)
		return (1);

	pcrypt_rand(nc, 32);
	if (sock_write_all(s, nc, 32) || read_full(s, ns, 32))
		goto dropped;
	proto_crypt_dhmac(K, nc, ns, dhmac);
	memset(one, 0, sizeof(one));
	one[255] = 1;
	memcpy(msg, one, 256);
	if (strcmp(mode, "yp") == 0) {
		/* y = 2^2048 - 1 >= p, with a valid MAC. */
		memset(msg, 0xff, 256);
	}
	pcrypt_hmac_sha256(dhmac, 32, msg, 256, msg + 256);
	if (strcmp(mode, "truncate") == 0) {
		/* Half a DH message, then silence. */
		if (sock_write_all(s, msg, 100))
			goto dropped;
		goto wait;
	}
	if (sock_write_all(s, msg, 288) || read_full(s, msg, 288))
		goto dropped;
	proto_crypt_keys(K, nc, ns, one, dk);

	if (strcmp(mode, "tamper") == 0) {
		forge(dk, 0, (const uint8_t *)"hello", 5, 5, pkt);
		pkt[3] ^= 0x40;
		sock_write_all(s, pkt, PROTO_PKT_LEN);
	} else if (strcmp(mode, "replay") == 0) {
		forge(dk, 0, (const uint8_t *)"hello", 5, 5, pkt);
		sock_write_all(s, pkt, PROTO_PKT_LEN);
		sock_write_all(s, pkt, PROTO_PKT_LEN);
	} else if (strcmp(mode, "len0") == 0) {
		forge(dk, 0, (const uint8_t *)"hello", 5, 0, pkt);
		sock_write_all(s, pkt, PROTO_PKT_LEN);
	} else if (strcmp(mode, "len1025") == 0) {
		forge(dk, 0, (const uint8_t *)"hello", 5, 1025, pkt);
		sock_write_all(s, pkt, PROTO_PKT_LEN);
	} else {
		/* ok: a good packet, then wait like the others. */
		forge(dk, 0, (const uint8_t *)"hello", 5, 5, pkt);
		sock_write_all(s, pkt, PROTO_PKT_LEN);
	}

wait:
	/* Dropped means end of file or reset within 3 seconds. */
	{
		struct timeval tv = { 3, 0 };

		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	while ((n = read(s, buf, sizeof(buf))) > 0)
		continue;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		printf("open\n");
		close(s);
		return (0);
	}
dropped:
	printf("dropped\n");
	close(s);
	return (0);
}

static void
usage(void)
{

	fprintf(stderr, "usage: pipebench echo -s ADDR\n"
	    "       pipebench sink -s ADDR [-l LOG] [-q]\n"
	    "       pipebench send -t ADDR -n BYTES [-c CONNS] [-e] [-q] "
	    "[-S SEED]\n"
	    "       pipebench hs -t ADDR -n COUNT\n"
	    "       pipebench gen -n BYTES [-S SEED]\n"
	    "       pipebench evil -t ADDR -k KEYFILE -m MODE\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	const char *cmd, *addr = NULL, *keypath = NULL, *mode = "ok";
	uint64_t n = 0, seed = 1;
	int conns = 1, echo = 0, ch;

	log_init(argv[0]);
	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	while ((ch = getopt(argc, argv, "c:ek:l:m:n:qs:S:t:")) != -1) {
		switch (ch) {
		case 'c':
			if (parse_int(optarg, 1, 1000, &conns))
				usage();
			break;
		case 'e':
			echo = 1;
			break;
		case 'k':
			keypath = optarg;
			break;
		case 'l':
			sink_log = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'q':
			quick = 1;
			break;
		case 'n':
			if (parse_size(optarg, &n))
				usage();
			break;
		case 's':
		case 't':
			addr = optarg;
			break;
		case 'S':
			if (parse_uint64(optarg, 0, UINT64_MAX, &seed))
				usage();
			break;
		default:
			usage();
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(cmd, "gen") == 0)
		return (cmd_gen(n, seed));
	if (addr == NULL)
		usage();
	if (strcmp(cmd, "echo") == 0)
		return (serve(addr, echo_conn));
	if (strcmp(cmd, "sink") == 0)
		return (serve(addr, sink_conn));
	if (strcmp(cmd, "send") == 0)
		return (cmd_send(addr, n, conns, echo, seed));
	if (strcmp(cmd, "evil") == 0 && keypath != NULL)
		return (cmd_evil(addr, keypath, mode));
	if (strcmp(cmd, "hs") == 0)
		return (cmd_hs(addr, (int)n));
	usage();
	return (1);
}
