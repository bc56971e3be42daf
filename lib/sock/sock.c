/*
 * sock: see sock.h.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "parse/parse.h"

#include "sock.h"

/* Kernel backlog request; Linux clamps it to net.core.somaxconn. */
#define SOCK_BACKLOG	4096

struct sock_addr {
	int family;
	socklen_t len;
	struct sockaddr_storage ss;
};

/**
 * sock_spec_is_unix(addr):
 * Return 1 if the address string ${addr} contains '/'.
 */
int
sock_spec_is_unix(const char *addr)
{

	return (strchr(addr, '/') != NULL);
}

/* Build the one-element list for the Unix path ${path}. */
static struct sock_addr **
resolve_unix(const char *path)
{
	struct sock_addr **list;
	struct sockaddr_un *sun_;
	size_t len = strlen(path);

	if (len >= sizeof(sun_->sun_path)) {
		warn0("Unix socket path too long: %s", path);
		errno = ENAMETOOLONG;
		return (NULL);
	}
	if ((list = calloc(2, sizeof(*list))) == NULL)
		goto err0;
	if ((list[0] = calloc(1, sizeof(*list[0]))) == NULL)
		goto err1;
	sun_ = (struct sockaddr_un *)&list[0]->ss;
	sun_->sun_family = AF_UNIX;
	memcpy(sun_->sun_path, path, len + 1);
	list[0]->family = AF_UNIX;
	list[0]->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    len + 1);
	return (list);

err1:
	free(list);
err0:
	warnp("malloc");
	return (NULL);
}

/**
 * sock_resolve(addr):
 * Parse and resolve ${addr} into a NULL-terminated array of addresses.
 */
struct sock_addr **
sock_resolve(const char *addr)
{
	struct addrinfo hints, *res, *r;
	struct sock_addr **list;
	const char *colon, *portstr;
	char *host;
	size_t hlen, n, i;
	int port, numeric = 0, rc;

	if (addr == NULL || *addr == '\0') {
		warn0("empty socket address");
		goto einval;
	}
	if (sock_spec_is_unix(addr))
		return (resolve_unix(addr));

	/* Split "host:port" or "[host]:port". */
	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');

		if (rb == NULL || rb[1] != ':') {
			warn0("bad socket address (want [addr]:port): %s",
			    addr);
			goto einval;
		}
		hlen = (size_t)(rb - addr - 1);
		if ((host = strndup(addr + 1, hlen)) == NULL)
			goto enomem;
		portstr = rb + 2;
		numeric = 1;
	} else {
		if ((colon = strrchr(addr, ':')) == NULL ||
		    memchr(addr, ':', (size_t)(colon - addr)) != NULL) {
			warn0("bad socket address (want host:port, "
			    "[addr]:port or a path with '/'): %s", addr);
			goto einval;
		}
		hlen = (size_t)(colon - addr);
		if ((host = strndup(addr, hlen)) == NULL)
			goto enomem;
		portstr = colon + 1;
	}
	if (hlen == 0) {
		warn0("missing host in socket address: %s", addr);
		free(host);
		goto einval;
	}
	if (parse_int(portstr, 0, 65535, &port)) {
		warn0("bad port in socket address: %s", addr);
		free(host);
		goto einval;
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		warn0("cannot resolve %s: %s", addr,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		free(host);
		goto einval;
	}
	free(host);

	for (n = 0, r = res; r != NULL; r = r->ai_next)
		if (r->ai_family == AF_INET || r->ai_family == AF_INET6)
			n++;
	if (n == 0) {
		warn0("no IPv4 or IPv6 address for %s", addr);
		freeaddrinfo(res);
		goto einval;
	}
	if ((list = calloc(n + 1, sizeof(*list))) == NULL) {
		freeaddrinfo(res);
		goto enomem;
	}
	for (i = 0, r = res; r != NULL; r = r->ai_next) {
		if (r->ai_family != AF_INET && r->ai_family != AF_INET6)
			continue;
		if (r->ai_addrlen > sizeof(list[i]->ss))
			continue;
		if ((list[i] = calloc(1, sizeof(*list[i]))) == NULL) {
			sock_addr_freelist(list);
			freeaddrinfo(res);
			goto enomem;
		}
		list[i]->family = r->ai_family;
		list[i]->len = r->ai_addrlen;
		memcpy(&list[i]->ss, r->ai_addr, r->ai_addrlen);
		i++;
	}
	freeaddrinfo(res);
	return (list);

enomem:
	warnp("malloc");
	return (NULL);
einval:
	errno = EINVAL;
	return (NULL);
}

/**
 * sock_resolve_bind(addr):
 * As sock_resolve(), but a bare host or [address] means any port.
 */
struct sock_addr **
sock_resolve_bind(const char *addr)
{
	struct sock_addr **sas;
	const char *rb = strrchr(addr, ']');
	char *withport;

	if (sock_spec_is_unix(addr) ||
	    (rb != NULL ? rb[1] == ':' : strchr(addr, ':') != NULL))
		return (sock_resolve(addr));
	if (asprintf(&withport, "%s:0", addr) == -1) {
		warnp("asprintf");
		return (NULL);
	}
	sas = sock_resolve(withport);
	free(withport);
	return (sas);
}

/**
 * sock_addr_freelist(list):
 * Free a NULL-terminated array of addresses.
 */
void
sock_addr_freelist(struct sock_addr **list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/**
 * sock_addr_dup(sa):
 * Return a copy of ${sa}.
 */
struct sock_addr *
sock_addr_dup(const struct sock_addr *sa)
{
	struct sock_addr *c;

	if ((c = malloc(sizeof(*c))) == NULL) {
		warnp("malloc");
		return (NULL);
	}
	memcpy(c, sa, sizeof(*c));
	return (c);
}

/**
 * sock_addr_free(sa):
 * Free one address.
 */
void
sock_addr_free(struct sock_addr *sa)
{

	free(sa);
}

/**
 * sock_addr_prettyprint(sa):
 * Return a printable, malloc'd form of ${sa}.
 */
char *
sock_addr_prettyprint(const struct sock_addr *sa)
{
	char host[INET6_ADDRSTRLEN];
	char *s;
	int rc;

	switch (sa->family) {
	case AF_UNIX:
		s = strdup(((const struct sockaddr_un *)&sa->ss)->sun_path);
		break;
	case AF_INET: {
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)&sa->ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		rc = asprintf(&s, "%s:%u", host, ntohs(sin->sin_port));
		if (rc == -1)
			s = NULL;
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)&sa->ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		rc = asprintf(&s, "[%s]:%u", host, ntohs(sin6->sin6_port));
		if (rc == -1)
			s = NULL;
		break;
	}
	default:
		s = strdup("(unknown address family)");
		break;
	}
	if (s == NULL)
		warnp("malloc");
	return (s);
}

/**
 * sock_addr_sockaddr(sa, len):
 * Return the struct sockaddr inside ${sa} and its length.
 */
const struct sockaddr *
sock_addr_sockaddr(const struct sock_addr *sa, socklen_t *len)
{

	*len = sa->len;
	return ((const struct sockaddr *)&sa->ss);
}

/**
 * sock_is_unix(sa):
 * Return 1 for a Unix-domain address, 0 for TCP.
 */
int
sock_is_unix(const struct sock_addr *sa)
{

	return (sa->family == AF_UNIX);
}

/**
 * sock_addr_unix_path(sa):
 * Return the path of a Unix-domain address, or NULL.
 */
const char *
sock_addr_unix_path(const struct sock_addr *sa)
{

	if (sa->family != AF_UNIX)
		return (NULL);
	return (((const struct sockaddr_un *)&sa->ss)->sun_path);
}

/* Close ${fd} on an error path, keeping errno for the caller. */
static void
close_keep_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
}

/*
 * Make the path of ${sa} free for bind(2): nothing there, or a stale
 * socket nobody accepts on (removed).  Return 0, or -1 (printed) if the
 * path is not a socket (EEXIST) or a live server answers (EADDRINUSE).
 */
static int
unix_clear_stale(const struct sock_addr *sa)
{
	const char *path = sock_addr_unix_path(sa);
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return (0);
		warnp("lstat %s", path);
		return (-1);
	}
	if (!S_ISSOCK(st.st_mode)) {
		warn0("%s exists and is not a socket; not replacing it", path);
		errno = EEXIST;
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		warnp("socket");
		return (-1);
	}
	rc = connect(fd, (const struct sockaddr *)&sa->ss, sa->len);
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN) {
		/* Someone accepts (or has a full backlog): it is alive. */
		warn0("%s: a server is already listening there", path);
		errno = EADDRINUSE;
		return (-1);
	}
	if (e == ENOENT)
		return (0);
	if (e != ECONNREFUSED) {
		errno = e;
		warnp("probing %s", path);
		return (-1);
	}
	/* Stale: nobody listens. */
	if (unlink(path) && errno != ENOENT) {
		warnp("unlink stale socket %s", path);
		return (-1);
	}
	return (0);
}

/**
 * sock_listen(sa, unix_mode):
 * Return a non-blocking, close-on-exec socket listening on ${sa}.
 */
int
sock_listen(const struct sock_addr *sa, int unix_mode)
{
	const char *path = sock_addr_unix_path(sa);
	char *pp;
	mode_t oldmask;
	int fd, one = 1, rc, e;

	if (path != NULL && unix_clear_stale(sa))
		goto err0;
	if ((fd = socket(sa->family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		warnp("socket");
		goto err0;
	}
	if (path == NULL) {
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one))) {
			warnp("setsockopt(SO_REUSEADDR)");
			goto err1;
		}
		if (sa->family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
		    IPV6_V6ONLY, &one, sizeof(one))) {
			warnp("setsockopt(IPV6_V6ONLY)");
			goto err1;
		}
	}

	/*
	 * A Unix socket file is created with mode 0000 (umask 0777), so no
	 * one can connect before it gets its final mode.
	 */
	if (path != NULL)
		oldmask = umask(0777);
	rc = bind(fd, (const struct sockaddr *)&sa->ss, sa->len);
	e = errno;
	if (path != NULL)
		umask(oldmask);
	if (rc) {
		errno = e;
		pp = sock_addr_prettyprint(sa);
		warnp("bind %s", pp ? pp : "");
		free(pp);
		goto err1;
	}
	if (path != NULL && chmod(path,
	    unix_mode == -1 ? 0600 : (mode_t)unix_mode)) {
		warnp("chmod %s", path);
		goto err2;
	}
	if (listen(fd, SOCK_BACKLOG)) {
		warnp("listen");
		goto err2;
	}
	return (fd);

err2:
	if (path != NULL)
		unlink(path);
err1:
	close_keep_errno(fd);
err0:
	return (-1);
}

/**
 * sock_connect_nb(sa, bindaddr, inprogress):
 * Start a non-blocking connection to ${sa} from ${bindaddr} (if any).
 */
int
sock_connect_nb(const struct sock_addr *sa, const struct sock_addr *bindaddr,
    int *inprogress)
{
	int fd;

	if ((fd = socket(sa->family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (bindaddr != NULL && bind(fd,
	    (const struct sockaddr *)&bindaddr->ss, bindaddr->len))
		goto err;
	if (connect(fd, (const struct sockaddr *)&sa->ss, sa->len) == 0) {
		*inprogress = 0;
		return (fd);
	}
	/* After EINTR the connection goes on asynchronously. */
	if (errno == EINPROGRESS || errno == EINTR) {
		*inprogress = 1;
		return (fd);
	}
err:
	close_keep_errno(fd);
	return (-1);
}

/**
 * sock_connect_finish(fd):
 * Return 0 if the pending connection of ${fd} succeeded, else -1/errno.
 */
int
sock_connect_finish(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return (-1);
	if (err != 0) {
		errno = err;
		return (-1);
	}
	return (0);
}

/* Connect to one address, blocking; return the socket or -1. */
static int
connect_one(const struct sock_addr *sa)
{
	struct pollfd pfd;
	int fd, inprogress, flags;

	if ((fd = sock_connect_nb(sa, NULL, &inprogress)) == -1)
		return (-1);
	while (inprogress) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		if (sock_connect_finish(fd))
			goto err;
		inprogress = 0;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1)
		goto err;
	return (fd);

err:
	close_keep_errno(fd);
	return (-1);
}

/**
 * sock_connect(addrs):
 * Return a blocking socket connected to the first address that accepts.
 */
int
sock_connect(struct sock_addr * const *addrs)
{
	size_t i;
	int fd;

	errno = EINVAL;
	for (i = 0; addrs != NULL && addrs[i] != NULL; i++)
		if ((fd = connect_one(addrs[i])) != -1)
			return (fd);
	return (-1);
}

/* Return 1 if ${fd} is a Unix-domain socket, 0 if not, -1 on error. */
static int
fd_is_unix(int fd)
{
	int dom;
	socklen_t len = sizeof(dom);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len)) {
		warnp("getsockopt(SO_DOMAIN)");
		return (-1);
	}
	return (dom == AF_UNIX);
}

/*
 * Set the int socket option ${level}/${opt} (named ${name} in errors) of
 * ${fd} to ${on} (0 or 1), unless ${fd} is a Unix socket.
 */
static int
set_inet_flag(int fd, int level, int opt, const char *name, int on)
{
	int v = on ? 1 : 0, u;

	if ((u = fd_is_unix(fd)) != 0)
		return (u == 1 ? 0 : -1);
	if (setsockopt(fd, level, opt, &v, sizeof(v))) {
		warnp("setsockopt(%s)", name);
		return (-1);
	}
	return (0);
}

/**
 * sock_set_nodelay(fd, on):
 * Set or clear TCP_NODELAY (no-op on Unix sockets).
 */
int
sock_set_nodelay(int fd, int on)
{

	return (set_inet_flag(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY",
	    on));
}

/**
 * sock_set_keepalive(fd, on):
 * Set or clear SO_KEEPALIVE (no-op on Unix sockets).
 */
int
sock_set_keepalive(int fd, int on)
{

	return (set_inet_flag(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE",
	    on));
}

/**
 * sock_local_port(fd):
 * Return the local TCP port of ${fd}, or -1.
 */
int
sock_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len)) {
		warnp("getsockname");
		return (-1);
	}
	if (ss.ss_family == AF_INET)
		return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
	if (ss.ss_family == AF_INET6)
		return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return (-1);
}

/**
 * sock_write_all(fd, buf, len):
 * Write all of ${buf} to the blocking ${fd}.
 */
int
sock_write_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}
