#ifndef SOCK_H_
#define SOCK_H_

/*
 * sock: socket addresses, listening and connecting.
 *
 * Address syntax (as given with -s, -t, -b and the like):
 *	/path/to/sock, ./rel.sock	anything containing '/' is a Unix socket
 *	host:port			a name or IPv4 address and a TCP port
 *	[IPv6]:port, [IPv4]:port	a bracketed literal address
 * The port is numeric (0-65535).  A name may resolve to several
 * addresses; sock_resolve() returns them all, in getaddrinfo(3) order.
 *
 * Sockets returned by sock_listen() and sock_connect_nb() are
 * non-blocking and close-on-exec.
 *
 * Errors: functions that run at start-up (sock_resolve, sock_listen)
 * report their errors with warnp/warn0; the connecting functions, called
 * per connection in busy daemons, print nothing and leave errno set so
 * that the caller reports through the rate-limited logger.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* One resolved address: opaque. */
struct sock_addr;

/**
 * sock_resolve(addr):
 * Parse the address string ${addr} (syntax above) and resolve it: return
 * a NULL-terminated array of one or more addresses, which the caller frees
 * with sock_addr_freelist().  A Unix path is not looked at (it need not
 * exist).  On error (bad syntax, name not found, path too long) print a
 * message and return NULL.
 */
struct sock_addr **sock_resolve(const char *);

/**
 * sock_resolve_bind(addr):
 * As sock_resolve(), for a local address to bind to (spiped and spipe
 * -b): a bare host, name or [address] without ":port" means any port, as
 * "host:0" would.
 */
struct sock_addr **sock_resolve_bind(const char *);

/**
 * sock_addr_freelist(list):
 * Free the NULL-terminated array ${list} and every address in it.  NULL
 * is a no-op.
 */
void sock_addr_freelist(struct sock_addr **);

/**
 * sock_addr_dup(sa):
 * Return a newly allocated copy of ${sa} (free it with sock_addr_free()),
 * or NULL on error.
 */
struct sock_addr *sock_addr_dup(const struct sock_addr *);

/**
 * sock_addr_free(sa):
 * Free one address (from sock_addr_dup()).  NULL is a no-op.  Never use it
 * on the members of a list from sock_resolve().
 */
void sock_addr_free(struct sock_addr *);

/**
 * sock_addr_prettyprint(sa):
 * Return a newly allocated printable form of ${sa}: "1.2.3.4:80",
 * "[::1]:80" or the Unix path; the caller frees it with free(3).  NULL on
 * error (out of memory).
 */
char *sock_addr_prettyprint(const struct sock_addr *);

/**
 * sock_addr_sockaddr(sa, len):
 * Return a pointer to the struct sockaddr inside ${sa} (valid while ${sa}
 * lives) and store its length in *${len}.
 */
const struct sockaddr *sock_addr_sockaddr(const struct sock_addr *,
    socklen_t *);

/**
 * sock_is_unix(sa):
 * Return 1 if ${sa} is a Unix-domain address, 0 if it is TCP (IPv4/v6).
 */
int sock_is_unix(const struct sock_addr *);

/**
 * sock_addr_unix_path(sa):
 * Return the socket path of the Unix-domain address ${sa} (valid while
 * ${sa} lives), or NULL if ${sa} is TCP.
 */
const char *sock_addr_unix_path(const struct sock_addr *);

/**
 * sock_spec_is_unix(addr):
 * Return 1 if the address string ${addr} names a Unix socket (it contains
 * '/'), 0 otherwise.  No resolution is done.
 */
int sock_spec_is_unix(const char *);

/**
 * sock_listen(sa, unix_mode):
 * Create a socket bound to ${sa} and listening (large backlog), with
 * SO_REUSEADDR (TCP) and IPV6_V6ONLY (IPv6), non-blocking, close-on-exec;
 * return it, or print a message and return -1.
 * For a Unix address the socket file gets mode ${unix_mode}, or 0600 if
 * ${unix_mode} is -1: it is created under umask 0777 (so nobody can
 * connect before) and then chmod'ed.  An existing file at the path is
 * replaced only if it is a stale socket (connecting to it is refused);
 * if it is not a socket (errno EEXIST) or a live server accepts on it
 * (errno EADDRINUSE), fail.  Because the umask is process-wide, listen
 * on Unix sockets before starting threads that create files.  The socket
 * file is not removed when the socket is closed: the caller unlinks
 * sock_addr_unix_path() at exit if it wants.
 */
int sock_listen(const struct sock_addr *, int);

/**
 * sock_connect_nb(sa, bindaddr, inprogress):
 * Create a non-blocking, close-on-exec socket, bind it to ${bindaddr} if
 * that is not NULL (a local address for outgoing TCP connections; port 0
 * lets the kernel choose), and start connecting it to ${sa}.  Return the
 * socket and set *${inprogress} to 0 if the connection is already
 * established, or to 1 if it is in progress: wait until the socket is
 * writable, then call sock_connect_finish().  On error (refused, no such
 * file, ...) return -1 with errno set, printing nothing.
 */
int sock_connect_nb(const struct sock_addr *, const struct sock_addr *,
    int *);

/**
 * sock_connect_finish(fd):
 * For a socket from sock_connect_nb() that became writable: return 0 if
 * the connection succeeded, or -1 with errno set to the reason it failed
 * (from SO_ERROR), printing nothing.  The socket is not closed.
 */
int sock_connect_finish(int);

/**
 * sock_connect(addrs):
 * Blocking helper for clients: try each address of the NULL-terminated
 * array ${addrs} in turn; return a connected, blocking, close-on-exec
 * socket for the first that accepts, or -1 with errno set from the last
 * failure, printing nothing.
 */
int sock_connect(struct sock_addr * const *);

/**
 * sock_set_nodelay(fd, on):
 * Set (${on} non-zero) or clear TCP_NODELAY on ${fd}.  A no-op returning
 * 0 on a Unix socket.  Return -1 on error (printed).
 */
int sock_set_nodelay(int, int);

/**
 * sock_set_keepalive(fd, on):
 * Set (${on} non-zero) or clear SO_KEEPALIVE on ${fd}.  A no-op returning
 * 0 on a Unix socket.  Return -1 on error (printed).
 */
int sock_set_keepalive(int, int);

/**
 * sock_local_port(fd):
 * Return the local TCP port ${fd} is bound to (e.g. after listening on
 * port 0), or -1 on error (printed) or for a Unix socket.
 */
int sock_local_port(int);

/**
 * sock_write_all(fd, buf, len):
 * Write all ${len} bytes of ${buf} to the blocking descriptor ${fd} (a
 * socket, pipe or file), retrying short writes and EINTR.  Return 0, or
 * -1 with errno set (nothing printed: the caller says what failed).
 */
int sock_write_all(int, const uint8_t *, size_t);

#endif /* !SOCK_H_ */
