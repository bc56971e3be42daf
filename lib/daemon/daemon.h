#ifndef DAEMON_H_
#define DAEMON_H_

/*
 * daemon: what turns a program into a well-behaved daemon.
 *
 * Start-up order for a daemon (-F: stay in the foreground):
 *	log_init(argv[0]);
 *	parse options, load keys;
 *	if (daemon_prepare(foreground))		fork; the parent waits
 *		exit(1);
 *	create the listeners (sock_listen), open the store;
 *	if (pidfile && daemon_pidfile_write(pidfile))
 *		exit(1);
 *	if (user && daemon_drop_privs(user))	after binding ports
 *		exit(1);
 *	daemon_signals_init(base, shutdown_cb, ctx);
 *	if (daemon_ready())			the parent exits 0 now
 *		exit(1);
 *	event_base_dispatch(base);
 * The parent process exits 0 only once the child called daemon_ready(),
 * so that "kvlds ... && client" never races the listener; if the child
 * exits or dies before that, the parent exits 1 (or the child's exit
 * code).  Errors before daemon_ready() reach the terminal; after it,
 * a daemonized child logs to syslog.
 */

struct event_base;

/**
 * daemon_prepare(foreground):
 * If ${foreground} is zero, fork: the parent never returns (it waits for
 * the child's daemon_ready() and exits 0, or exits non-zero if the child
 * ends first); the child becomes a session leader (setsid) and returns 0.
 * If ${foreground} is non-zero, do nothing and return 0.  Return -1 on
 * error (printed), in the original process.
 */
int daemon_prepare(int);

/**
 * daemon_ready(void):
 * Tell the waiting parent (if daemon_prepare() forked) that start-up
 * succeeded: switch logging to syslog, point standard input, output and
 * error at /dev/null and let the parent exit 0.  In the foreground it
 * does nothing.  Return 0, or -1 on error (printed).
 */
int daemon_ready(void);

/**
 * daemon_pidfile_write(path):
 * Write the process id and a newline to ${path} (created mode 0644,
 * replaced if it exists; a symbolic link there is refused) and arrange,
 * with atexit(3), for the file to be removed when this process exits
 * normally (not in forked children).  If privileges are dropped later and
 * the new user may not write the directory, the removal at exit fails
 * with a warning.  Return 0, or -1 on error (printed).
 */
int daemon_pidfile_write(const char *);

/**
 * daemon_pidfile_remove(void):
 * Remove the pid file written by daemon_pidfile_write() now, if any and if
 * this is the process that wrote it.  Safe to call more than once.
 */
void daemon_pidfile_remove(void);

/**
 * daemon_drop_privs(spec):
 * Drop root privileges as asked by ${spec}: "user" (that user's uid, its
 * primary group and its supplementary groups), ":group" (that gid only,
 * supplementary groups cleared, uid kept) or "user:group" (that uid and
 * gid, the user's supplementary groups).  Names or numeric ids are
 * accepted.  After switching, check that root cannot be regained
 * (setuid(0) / setgid(0) must fail).  Return 0, or -1 on error (printed);
 * on error the caller must exit.
 */
int daemon_drop_privs(const char *);

/* Signal handling state: opaque. */
struct daemon_signals;

/**
 * daemon_signals_init(base, cb, cookie):
 * Ignore SIGPIPE and register persistent libevent signal events on
 * ${base} for SIGTERM and SIGINT: each delivery calls ${cb}(${cookie},
 * signo) from the event loop (so ${cb} may do anything, e.g. stop
 * accepting, let in-flight work finish, event_base_loopexit()).  A second
 * signal calls ${cb} again; the callback decides whether to exit at once.
 * Return the state, to free with daemon_signals_free() (which removes the
 * events) before freeing ${base}; NULL on error (printed).
 */
struct daemon_signals *daemon_signals_init(struct event_base *,
    void (*)(void *, int), void *);

/**
 * daemon_signals_free(ds):
 * Remove and free the signal events of ${ds}.  NULL is a no-op.
 */
void daemon_signals_free(struct daemon_signals *);

/**
 * daemon_ignore_sigpipe(void):
 * Ignore SIGPIPE, so that writing to a closed connection fails with EPIPE
 * instead of killing the process (for programs without
 * daemon_signals_init()).  Return 0, or -1 on error (printed).
 */
int daemon_ignore_sigpipe(void);

#endif /* !DAEMON_H_ */
