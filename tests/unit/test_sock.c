/*
 * Unit tests for lib/sock: address parsing and printing, listening on
 * TCP and Unix sockets (modes, stale and live sockets), non-blocking and
 * blocking connects, socket options.  Only 127.0.0.1, ::1 and Unix
 * sockets in a private temporary directory are used.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "sock/sock.h"

#include "unit.h"

static char tmpdir[] = "/tmp/test_sock.XXXXXX";

/* ${sas} must hold exactly one address printing as ${pp}; free it. */
static void
check_list(struct sock_addr **sas, const char *pp)
{
	char *p;

	CU_ASSERT_FATAL(sas != NULL);
	CU_ASSERT_FATAL(sas[0] != NULL);
	CU_ASSERT_PTR_NULL(sas[1]);
	p = sock_addr_prettyprint(sas[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(p, pp);
	free(p);
	sock_addr_freelist(sas);
}

/* Resolve ${s}, which must give exactly one address printing as ${pp}. */
static void
check_one(const char *s, const char *pp)
{

	check_list(sock_resolve(s), pp);
}

static void
test_resolve(void)
{
	struct sock_addr **sas;
	struct sock_addr *dup;
	const struct sockaddr *sa;
	socklen_t len;
	char longpath[200];
	size_t i;
	static const char *bad[] = {
		"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
		"127.0.0.1:-1", "127.0.0.1:80x", ":80", "::1:80", "[::1]80",
		"[::1]", "[]:80", "[notanaddress]:80", "[::1:80", "[1.2.3.4.5]:80",
	};

	check_one("127.0.0.1:8025", "127.0.0.1:8025");
	check_one("[127.0.0.1]:0", "127.0.0.1:0");
	check_one("[::1]:65535", "[::1]:65535");
	check_one("/tmp/x.sock", "/tmp/x.sock");
	check_one("./rel.sock", "./rel.sock");

	/* A bind address may leave the port out (any port). */
	check_list(sock_resolve_bind("127.0.0.1"), "127.0.0.1:0");
	check_list(sock_resolve_bind("[::1]"), "[::1]:0");
	check_list(sock_resolve_bind("127.0.0.1:8025"), "127.0.0.1:8025");
	check_list(sock_resolve_bind("[::1]:7"), "[::1]:7");
	check_list(sock_resolve_bind("/tmp/b.sock"), "/tmp/b.sock");

	/* "localhost" resolves to at least one loopback address. */
	sas = sock_resolve("localhost:1234");
	CU_ASSERT_FATAL(sas != NULL && sas[0] != NULL);
	CU_ASSERT_EQUAL(sock_is_unix(sas[0]), 0);
	sock_addr_freelist(sas);

	sas = sock_resolve("/tmp/a.sock");
	CU_ASSERT_FATAL(sas != NULL);
	CU_ASSERT_EQUAL(sock_is_unix(sas[0]), 1);
	CU_ASSERT_STRING_EQUAL(sock_addr_unix_path(sas[0]), "/tmp/a.sock");
	sa = sock_addr_sockaddr(sas[0], &len);
	CU_ASSERT_EQUAL(sa->sa_family, AF_UNIX);
	dup = sock_addr_dup(sas[0]);
	CU_ASSERT_FATAL(dup != NULL);
	CU_ASSERT_STRING_EQUAL(sock_addr_unix_path(dup), "/tmp/a.sock");
	sock_addr_free(dup);
	sock_addr_freelist(sas);

	sas = sock_resolve("127.0.0.1:80");
	CU_ASSERT_FATAL(sas != NULL);
	CU_ASSERT_PTR_NULL(sock_addr_unix_path(sas[0]));
	sa = sock_addr_sockaddr(sas[0], &len);
	CU_ASSERT_EQUAL(sa->sa_family, AF_INET);
	CU_ASSERT_EQUAL(len, sizeof(struct sockaddr_in));
	sock_addr_freelist(sas);

	CU_ASSERT_EQUAL(sock_spec_is_unix("/a"), 1);
	CU_ASSERT_EQUAL(sock_spec_is_unix("a/b:1"), 1);
	CU_ASSERT_EQUAL(sock_spec_is_unix("a:1"), 0);
	CU_ASSERT_EQUAL(sock_spec_is_unix("[::1]:1"), 0);

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	CU_ASSERT_PTR_NULL(sock_resolve(longpath));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sas = sock_resolve(bad[i]);
		if (sas != NULL)
			fprintf(stderr, "accepted bad address '%s'\n", bad[i]);
		CU_ASSERT_PTR_NULL(sas);
		sock_addr_freelist(sas);
	}
	sock_addr_freelist(NULL);
	sock_addr_free(NULL);
}

/* Listen on 127.0.0.1 port 0; return the socket, port in *port. */
static int
listen_any(int *port)
{
	struct sock_addr **sas;
	int fd;

	sas = sock_resolve("127.0.0.1:0");
	CU_ASSERT_FATAL(sas != NULL);
	fd = sock_listen(sas[0], -1);
	sock_addr_freelist(sas);
	CU_ASSERT_FATAL(fd != -1);
	*port = sock_local_port(fd);
	CU_ASSERT_FATAL(*port > 0);
	return (fd);
}

/* Wait for ${fd} to be writable (connect done), up to 5 s. */
static void
wait_writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	CU_ASSERT_EQUAL(poll(&p, 1, 5000), 1);
}

static void
test_tcp(void)
{
	struct sock_addr **sas, **bsas;
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	char addr[64];
	int lfd, cfd, afd, port, inprogress, fl, v;
	socklen_t vlen = sizeof(v);

	lfd = listen_any(&port);
	fl = fcntl(lfd, F_GETFL);
	CU_ASSERT(fl & O_NONBLOCK);
	CU_ASSERT(fcntl(lfd, F_GETFD) & FD_CLOEXEC);

	/* Non-blocking connect from a chosen local address. */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	sas = sock_resolve(addr);
	bsas = sock_resolve("127.0.0.1:0");
	CU_ASSERT_FATAL(sas != NULL && bsas != NULL);
	cfd = sock_connect_nb(sas[0], bsas[0], &inprogress);
	CU_ASSERT_FATAL(cfd != -1);
	CU_ASSERT(fcntl(cfd, F_GETFL) & O_NONBLOCK);
	CU_ASSERT(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	if (inprogress)
		wait_writable(cfd);
	CU_ASSERT_EQUAL(sock_connect_finish(cfd), 0);
	afd = accept(lfd, (struct sockaddr *)&peer, &plen);
	CU_ASSERT_FATAL(afd != -1);
	CU_ASSERT_EQUAL(write(cfd, "hi", 2), 2);
	{
		char buf[2];

		CU_ASSERT_EQUAL(read(afd, buf, 2), 2);
		CU_ASSERT_EQUAL(memcmp(buf, "hi", 2), 0);
	}

	/* Options. */
	CU_ASSERT_EQUAL(sock_set_nodelay(cfd, 1), 0);
	CU_ASSERT_EQUAL(getsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &v, &vlen),
	    0);
	CU_ASSERT(v != 0);
	CU_ASSERT_EQUAL(sock_set_nodelay(cfd, 0), 0);
	CU_ASSERT_EQUAL(getsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &v, &vlen),
	    0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(sock_set_keepalive(afd, 1), 0);
	CU_ASSERT_EQUAL(getsockopt(afd, SOL_SOCKET, SO_KEEPALIVE, &v, &vlen),
	    0);
	CU_ASSERT(v != 0);
	close(afd);
	close(cfd);

	/* Blocking helper. */
	cfd = sock_connect(sas);
	CU_ASSERT_FATAL(cfd != -1);
	CU_ASSERT_EQUAL(fcntl(cfd, F_GETFL) & O_NONBLOCK, 0);
	CU_ASSERT(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	close(cfd);
	sock_addr_freelist(bsas);

	/* SO_REUSEADDR: a second listener on the same port must fail... */
	{
		int lfd2;

		lfd2 = sock_listen(sas[0], -1);
		CU_ASSERT_EQUAL(lfd2, -1);
	}
	close(lfd);

	/* ...and nobody listening now: refused. */
	errno = 0;
	cfd = sock_connect_nb(sas[0], NULL, &inprogress);
	if (cfd != -1) {
		wait_writable(cfd);
		CU_ASSERT_EQUAL(sock_connect_finish(cfd), -1);
		CU_ASSERT_EQUAL(errno, ECONNREFUSED);
		close(cfd);
	} else {
		CU_ASSERT_EQUAL(errno, ECONNREFUSED);
	}
	errno = 0;
	CU_ASSERT_EQUAL(sock_connect(sas), -1);
	CU_ASSERT_EQUAL(errno, ECONNREFUSED);
	sock_addr_freelist(sas);
}

static void
test_ipv6(void)
{
	struct sock_addr **sas;
	int fd, port, cfd;
	char addr[64];

	sas = sock_resolve("[::1]:0");
	CU_ASSERT_FATAL(sas != NULL);
	fd = sock_listen(sas[0], -1);
	sock_addr_freelist(sas);
	if (fd == -1) {
		/* No IPv6 loopback on this machine: nothing more to test. */
		return;
	}
	port = sock_local_port(fd);
	snprintf(addr, sizeof(addr), "[::1]:%d", port);
	sas = sock_resolve(addr);
	CU_ASSERT_FATAL(sas != NULL);
	cfd = sock_connect(sas);
	CU_ASSERT(cfd != -1);
	if (cfd != -1)
		close(cfd);
	sock_addr_freelist(sas);
	close(fd);
}

/* Resolve the Unix path ${name} inside tmpdir. */
static struct sock_addr **
unix_addr(const char *name)
{
	char path[128];
	struct sock_addr **sas;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	sas = sock_resolve(path);
	CU_ASSERT_FATAL(sas != NULL);
	return (sas);
}

static void
test_unix(void)
{
	struct sock_addr **sas;
	const char *path;
	struct stat st;
	int lfd, lfd2, cfd, afd, inprogress, fd;

	sas = unix_addr("a.sock");
	path = sock_addr_unix_path(sas[0]);

	/* Default mode 0600. */
	lfd = sock_listen(sas[0], -1);
	CU_ASSERT_FATAL(lfd != -1);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT(fcntl(lfd, F_GETFL) & O_NONBLOCK);

	/* Connect (non-blocking), options are no-ops on Unix sockets. */
	cfd = sock_connect_nb(sas[0], NULL, &inprogress);
	CU_ASSERT_FATAL(cfd != -1);
	if (inprogress)
		wait_writable(cfd);
	CU_ASSERT_EQUAL(sock_connect_finish(cfd), 0);
	CU_ASSERT_EQUAL(sock_set_nodelay(cfd, 1), 0);
	CU_ASSERT_EQUAL(sock_set_keepalive(cfd, 1), 0);
	CU_ASSERT_EQUAL(sock_local_port(cfd), -1);
	afd = accept(lfd, NULL, NULL);
	CU_ASSERT(afd != -1);
	close(afd);
	close(cfd);

	/* A live server on the path: refuse with EADDRINUSE. */
	errno = 0;
	lfd2 = sock_listen(sas[0], -1);
	CU_ASSERT_EQUAL(lfd2, -1);
	CU_ASSERT_EQUAL(errno, EADDRINUSE);
	CU_ASSERT_EQUAL(stat(path, &st), 0);

	/* Close it: the file stays, stale; it is replaced, with mode 0660. */
	close(lfd);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	errno = 0;
	CU_ASSERT_EQUAL(sock_connect(sas), -1);
	CU_ASSERT_EQUAL(errno, ECONNREFUSED);
	lfd = sock_listen(sas[0], 0660);
	CU_ASSERT_FATAL(lfd != -1);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0660);
	cfd = sock_connect(sas);
	CU_ASSERT(cfd != -1);
	close(cfd);
	close(lfd);
	unlink(path);

	/* Nothing at the path: connecting fails with ENOENT. */
	errno = 0;
	CU_ASSERT_EQUAL(sock_connect_nb(sas[0], NULL, &inprogress), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);

	/* A regular file there: refuse (EEXIST) and leave it alone. */
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_EQUAL(write(fd, "data", 4), 4);
	close(fd);
	errno = 0;
	CU_ASSERT_EQUAL(sock_listen(sas[0], -1), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	CU_ASSERT_EQUAL(st.st_size, 4);
	unlink(path);
	sock_addr_freelist(sas);

	/* Directory missing: bind fails cleanly. */
	sas = unix_addr("nodir/b.sock");
	CU_ASSERT_EQUAL(sock_listen(sas[0], -1), -1);
	sock_addr_freelist(sas);

	/* The umask of the process is left as it was. */
	{
		mode_t m = umask(022);

		CU_ASSERT_EQUAL(m, 022);
		umask(m);
	}
}

UNIT_MAIN("sock",
    { "resolve and print", test_resolve },
    { "tcp listen and connect", test_tcp },
    { "ipv6 loopback", test_ipv6 },
    { "unix sockets", test_unix })

/* Suite-wide setup runs from a constructor: a private directory. */
__attribute__((constructor)) static void
setup(void)
{

	log_init("test_sock");
	umask(022);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
}

__attribute__((destructor)) static void
teardown(void)
{

	rmdir(tmpdir);
}
