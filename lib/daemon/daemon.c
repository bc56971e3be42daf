/*
 * daemon: see daemon.h.
 *
 * Readiness handshake: daemon_prepare() creates a pipe and forks.  The
 * parent blocks reading the pipe; the child writes one byte in
 * daemon_ready().  End-of-file without a byte means the child exited (or
 * crashed) during start-up, so the parent reports failure.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log/log.h"
#include "parse/parse.h"

#include "daemon.h"

/* Write end of the readiness pipe in the child, or -1. */
static int ready_fd = -1;

/* Pid file written by this process (pidfile_owner), if any. */
static char *pidfile_path;
static pid_t pidfile_owner;
static int pidfile_atexit;

/* Parent side of daemon_prepare(): wait for readiness, never return. */
static void
parent_wait(int rfd, pid_t child)
{
	char c;
	ssize_t r;
	int status;

	do {
		r = read(rfd, &c, 1);
	} while (r == -1 && errno == EINTR);
	if (r == 1)
		_exit(0);

	/* The child ended before it was ready: pass on its failure. */
	while (waitpid(child, &status, 0) == -1) {
		if (errno != EINTR)
			_exit(1);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		_exit(WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		warn0("daemon process killed by signal %d during start-up",
		    WTERMSIG(status));
	_exit(1);
}

/**
 * daemon_prepare(foreground):
 * Fork unless ${foreground}; the parent waits for daemon_ready().
 */
int
daemon_prepare(int foreground)
{
	int fds[2];
	pid_t pid;

	if (foreground)
		return (0);
	if (pipe2(fds, O_CLOEXEC)) {
		warnp("pipe");
		goto err0;
	}
	/* Nothing buffered may be written twice. */
	fflush(NULL);
	switch ((pid = fork())) {
	case -1:
		warnp("fork");
		goto err1;
	case 0:
		close(fds[0]);
		ready_fd = fds[1];
		if (setsid() == -1) {
			warnp("setsid");
			_exit(1);
		}
		return (0);
	default:
		close(fds[1]);
		parent_wait(fds[0], pid);
		/* NOTREACHED */
		_exit(1);
	}

err1:
	close(fds[0]);
	close(fds[1]);
err0:
	return (-1);
}

/**
 * daemon_ready(void):
 * Detach stdio, log to syslog and release the waiting parent.
 */
int
daemon_ready(void)
{
	ssize_t w;
	int fd;

	if (ready_fd == -1)
		return (0);
	if ((fd = open("/dev/null", O_RDWR)) == -1) {
		warnp("open /dev/null");
		return (-1);
	}
	fflush(NULL);
	log_syslog(1);
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1) {
		warnp("dup2");
		close(fd);
		return (-1);
	}
	if (fd > STDERR_FILENO)
		close(fd);
	do {
		w = write(ready_fd, "R", 1);
	} while (w == -1 && errno == EINTR);
	if (w != 1) {
		warnp("write readiness pipe");
		return (-1);
	}
	close(ready_fd);
	ready_fd = -1;
	return (0);
}

/**
 * daemon_pidfile_remove(void):
 * Remove the pid file if this process wrote it.
 */
void
daemon_pidfile_remove(void)
{

	if (pidfile_path == NULL || getpid() != pidfile_owner)
		return;
	if (unlink(pidfile_path) && errno != ENOENT)
		warnp("unlink %s", pidfile_path);
	free(pidfile_path);
	pidfile_path = NULL;
}

/**
 * daemon_pidfile_write(path):
 * Write our pid to ${path}; remove it at exit.
 */
int
daemon_pidfile_write(const char *path)
{
	char buf[32];
	char *copy;
	int fd, len;

	if ((copy = strdup(path)) == NULL) {
		warnp("strdup");
		goto err0;
	}
	/* Never follow a symlink planted where root writes the file. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1) {
		warnp("open %s", path);
		goto err1;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len) {
		warnp("write %s", path);
		goto err2;
	}
	if (close(fd)) {
		warnp("close %s", path);
		fd = -1;
		goto err2;
	}
	free(pidfile_path);
	pidfile_path = copy;
	pidfile_owner = getpid();
	if (!pidfile_atexit) {
		if (atexit(daemon_pidfile_remove)) {
			warn0("atexit failed");
			goto err0;
		}
		pidfile_atexit = 1;
	}
	return (0);

err2:
	if (fd != -1)
		close(fd);
	unlink(path);
err1:
	free(copy);
err0:
	return (-1);
}

/* Look up the group ${name} (or a numeric gid) into *${gid}. */
static int
lookup_group(const char *name, gid_t *gid)
{
	struct group *gr;
	int64_t id;

	if ((gr = getgrnam(name)) != NULL) {
		*gid = gr->gr_gid;
		return (0);
	}
	if (parse_int64(name, 0, (gid_t)-1 - 1, &id) == 0) {
		*gid = (gid_t)id;
		return (0);
	}
	warn0("no such group: %s", name);
	return (-1);
}

/**
 * daemon_drop_privs(spec):
 * Switch to the user and/or group of ${spec} for good.
 */
int
daemon_drop_privs(const char *spec)
{
	struct passwd *pw = NULL;
	const char *colon;
	char *user = NULL;
	uid_t uid = 0;
	gid_t gid = 0;
	int64_t id;
	int have_user, have_group;

	colon = strchr(spec, ':');
	have_user = (colon == NULL) ? (*spec != '\0') : (colon != spec);
	have_group = (colon != NULL && colon[1] != '\0');
	if (!have_user && !have_group) {
		warn0("bad -u argument (want user, :group or user:group): %s",
		    spec);
		goto err0;
	}
	if (have_user) {
		user = colon ? strndup(spec, (size_t)(colon - spec)) :
		    strdup(spec);
		if (user == NULL) {
			warnp("strdup");
			goto err0;
		}
		if ((pw = getpwnam(user)) != NULL) {
			uid = pw->pw_uid;
			gid = pw->pw_gid;
		} else if (parse_int64(user, 0, (uid_t)-1 - 1, &id) == 0) {
			uid = (uid_t)id;
			gid = (gid_t)id;
		} else {
			warn0("no such user: %s", user);
			goto err1;
		}
	}
	if (have_group && lookup_group(colon + 1, &gid))
		goto err1;

	/* Supplementary groups first, while we still may. */
	if (pw != NULL) {
		if (initgroups(pw->pw_name, gid)) {
			warnp("initgroups");
			goto err1;
		}
	} else if (setgroups(1, &gid)) {
		warnp("setgroups");
		goto err1;
	}
	if (setgid(gid)) {
		warnp("setgid");
		goto err1;
	}
	if (have_user && setuid(uid)) {
		warnp("setuid");
		goto err1;
	}

	/* Verify: the ids took, and root cannot be regained. */
	if (getgid() != gid || getegid() != gid) {
		warn0("group id did not change");
		goto err1;
	}
	if (have_user) {
		if (getuid() != uid || geteuid() != uid) {
			warn0("user id did not change");
			goto err1;
		}
		if (uid != 0 && setuid(0) != -1) {
			warn0("could regain root after dropping privileges");
			goto err1;
		}
		if (uid != 0 && gid != 0 && setgid(0) != -1) {
			warn0("could regain group 0 after dropping "
			    "privileges");
			goto err1;
		}
	}
	free(user);
	return (0);

err1:
	free(user);
err0:
	return (-1);
}

struct daemon_signals {
	struct event *ev_term;
	struct event *ev_int;
	void (*cb)(void *, int);
	void *cookie;
};

/* libevent callback: hand the signal to the user's callback. */
static void
on_signal(evutil_socket_t signo, short what, void *arg)
{
	struct daemon_signals *ds = arg;

	(void)what;
	ds->cb(ds->cookie, (int)signo);
}

/**
 * daemon_ignore_sigpipe(void):
 * Ignore SIGPIPE.
 */
int
daemon_ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL)) {
		warnp("sigaction(SIGPIPE)");
		return (-1);
	}
	return (0);
}

/**
 * daemon_signals_init(base, cb, cookie):
 * Ignore SIGPIPE; call ${cb}(${cookie}, signo) on SIGTERM and SIGINT.
 */
struct daemon_signals *
daemon_signals_init(struct event_base *base, void (*cb)(void *, int),
    void *cookie)
{
	struct daemon_signals *ds;

	if (daemon_ignore_sigpipe())
		goto err0;
	if ((ds = calloc(1, sizeof(*ds))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	ds->cb = cb;
	ds->cookie = cookie;
	if ((ds->ev_term = evsignal_new(base, SIGTERM, on_signal, ds)) ==
	    NULL || event_add(ds->ev_term, NULL)) {
		warn0("cannot register SIGTERM event");
		goto err1;
	}
	if ((ds->ev_int = evsignal_new(base, SIGINT, on_signal, ds)) ==
	    NULL || event_add(ds->ev_int, NULL)) {
		warn0("cannot register SIGINT event");
		goto err1;
	}
	return (ds);

err1:
	daemon_signals_free(ds);
err0:
	return (NULL);
}

/**
 * daemon_signals_free(ds):
 * Remove and free the signal events.
 */
void
daemon_signals_free(struct daemon_signals *ds)
{

	if (ds == NULL)
		return;
	if (ds->ev_term != NULL)
		event_free(ds->ev_term);
	if (ds->ev_int != NULL)
		event_free(ds->ev_int);
	free(ds);
}
