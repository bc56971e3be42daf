/*
 * Unit tests for lib/daemon: pid files, the daemonizing readiness
 * handshake, privilege dropping (when run as root) and signal events.
 * Everything that changes process state runs in a forked child.
 */
#include <sys/types.h>
#include <sys/stat.h>
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

#include "daemon/daemon.h"
#include "log/log.h"

#include "unit.h"

static char tmpdir[] = "/tmp/test_daemon.XXXXXX";
static pid_t mainpid;

/* Run ${fn} in a child; return its exit status (or 128+signal). */
static int
in_child(int (*fn)(void *), void *arg)
{
	pid_t pid;
	int status;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) == -1)
		return (-1);
	if (WIFEXITED(status))
		return (WEXITSTATUS(status));
	return (128 + WTERMSIG(status));
}

/* Read a file into ${buf}; return bytes read or -1. */
static ssize_t
slurp(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return (-1);
	n = read(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return (n);
}

/* Child: write a pid file, exit (normally), so atexit removes it. */
static int
pidfile_child(void *arg)
{
	const char *path = arg;
	char buf[64], want[64];

	if (daemon_pidfile_write(path))
		return (10);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	if (slurp(path, buf, sizeof(buf)) < 0 || strcmp(buf, want) != 0)
		return (11);
	/* A forked grandchild exiting must not remove it. */
	if (fork() == 0)
		exit(0);
	wait(NULL);
	if (access(path, F_OK))
		return (12);
	exit(0);
}

static void
test_pidfile(void)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/test.pid", tmpdir);
	CU_ASSERT_EQUAL(in_child(pidfile_child, path), 0);
	/* Removed at exit. */
	CU_ASSERT_EQUAL(stat(path, &st), -1);

	/* Directly: write, check mode, remove twice. */
	CU_ASSERT_EQUAL_FATAL(daemon_pidfile_write(path), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0644);
	daemon_pidfile_remove();
	CU_ASSERT_EQUAL(stat(path, &st), -1);
	daemon_pidfile_remove();

	/* A symbolic link at the path is refused, its target untouched. */
	{
		char target[160];
		struct stat lst;

		snprintf(target, sizeof(target), "%s/target", tmpdir);
		CU_ASSERT_EQUAL(symlink(target, path), 0);
		CU_ASSERT_EQUAL(daemon_pidfile_write(path), -1);
		CU_ASSERT_EQUAL(stat(target, &st), -1);
		CU_ASSERT_EQUAL(lstat(path, &lst), 0);
		CU_ASSERT(S_ISLNK(lst.st_mode));
		unlink(path);
	}

	/* Unwritable location. */
	snprintf(path, sizeof(path), "%s/nodir/test.pid", tmpdir);
	CU_ASSERT_EQUAL(daemon_pidfile_write(path), -1);
}

struct dz {
	const char *marker;	/* file the daemon creates once ready */
	int fail_code;		/* exit with this before ready, if non-zero */
	int crash;		/* die from SIGKILL before ready */
};

/*
 * Child playing a daemon's main(): daemon_prepare(0); the intermediate
 * parent's exit status is what the test checks.
 */
static int
daemonize_child(void *arg)
{
	const struct dz *dz = arg;
	char path[160];
	int fd;

	if (daemon_prepare(0))
		return (20);
	/* From here on we are the daemon (grandchild of the test). */
	if (getsid(0) != getpid())
		_exit(21);
	if (dz->fail_code)
		_exit(dz->fail_code);
	if (dz->crash)
		kill(getpid(), SIGKILL);
	/* Give the parent a chance to wrongly exit early. */
	usleep(100000);
	snprintf(path, sizeof(path), "%s.ready", dz->marker);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) != -1)
		close(fd);
	if (daemon_ready())
		_exit(22);
	/* stdio now points at /dev/null. */
	if (write(STDOUT_FILENO, "x", 1) != 1)
		_exit(23);
	snprintf(path, sizeof(path), "%s.done", dz->marker);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) != -1)
		close(fd);
	_exit(0);
}

/* Wait up to 5 s for ${path} to exist. */
static int
wait_file(const char *path)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (access(path, F_OK) == 0)
			return (0);
		usleep(10000);
	}
	return (-1);
}

static void
test_daemonize(void)
{
	char marker[128], path[160];
	struct dz dz = { marker, 0, 0 };

	snprintf(marker, sizeof(marker), "%s/dz", tmpdir);

	/* Parent exits 0 only after the daemon is ready. */
	CU_ASSERT_EQUAL(in_child(daemonize_child, &dz), 0);
	snprintf(path, sizeof(path), "%s.ready", marker);
	CU_ASSERT_EQUAL(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s.done", marker);
	CU_ASSERT_EQUAL(wait_file(path), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s.ready", marker);
	unlink(path);

	/* The daemon fails during start-up: its exit code comes back. */
	dz.fail_code = 3;
	CU_ASSERT_EQUAL(in_child(daemonize_child, &dz), 3);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);

	/* The daemon dies from a signal: the parent exits 1. */
	dz.fail_code = 0;
	dz.crash = 1;
	CU_ASSERT_EQUAL(in_child(daemonize_child, &dz), 1);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
}

/* Foreground: no fork, daemon_ready() a no-op. */
static int
foreground_child(void *arg)
{
	pid_t me = getpid();

	(void)arg;
	if (daemon_prepare(1) || getpid() != me)
		return (30);
	if (daemon_ready())
		return (31);
	return (0);
}

static void
test_foreground(void)
{

	CU_ASSERT_EQUAL(in_child(foreground_child, NULL), 0);
}

/* Child: drop to ${spec}; check ids; 0 on the expected outcome. */
static int
drop_child(void *arg)
{
	const char *spec = arg;
	struct passwd *pw = getpwnam("nobody");
	struct group *gr = getgrnam("nogroup");
	gid_t groups[8];
	uid_t nobody_uid;
	gid_t nobody_gid, nogroup_gid;

	if (pw == NULL || gr == NULL)
		return (77);
	/* Copy: the lookups inside daemon_drop_privs reuse the buffers. */
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	nogroup_gid = gr->gr_gid;
	if (daemon_drop_privs(spec))
		return (40);
	if (strcmp(spec, "nobody") == 0) {
		if (getuid() != nobody_uid || geteuid() != nobody_uid ||
		    getgid() != nobody_gid || getegid() != nobody_gid)
			return (41);
	} else if (strcmp(spec, ":nogroup") == 0) {
		/* Group only: still root, supplementary groups = nogroup. */
		if (geteuid() != 0 || getgid() != nogroup_gid)
			return (42);
		if (getgroups(8, groups) != 1 || groups[0] != nogroup_gid)
			return (43);
	} else if (strcmp(spec, "nobody:nogroup") == 0 ||
	    strcmp(spec, "65534:65534") == 0) {
		if (getuid() != 65534 || getgid() != nogroup_gid)
			return (44);
	}
	/* Root cannot come back unless only the group changed. */
	if (spec[0] != ':' && (setuid(0) == 0 || seteuid(0) == 0))
		return (45);
	return (0);
}

static void
test_drop_privs(void)
{
	static const char *bad[] = {
		"", ":", "no_such_user_kvsuite", ":no_such_group_kvsuite",
		"nobody:no_such_group_kvsuite",
	};
	size_t i;
	int rc;

	if (geteuid() != 0) {
		/* Without root, dropping must fail, not pretend. */
		CU_ASSERT_EQUAL(in_child(drop_child, "nobody"), 40);
		return;
	}
	rc = in_child(drop_child, "nobody");
	if (rc == 77)
		return;
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(in_child(drop_child, ":nogroup"), 0);
	CU_ASSERT_EQUAL(in_child(drop_child, "nobody:nogroup"), 0);
	rc = in_child(drop_child, "65534:65534");
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		fprintf(stderr, "65534:65534 -> %d\n", rc);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(in_child(drop_child, (void *)bad[i]), 40);
}

struct sigctx {
	struct event_base *base;
	int got[2];
};

static void
on_sig(void *cookie, int signo)
{
	struct sigctx *c = cookie;

	if (signo == SIGTERM)
		c->got[0]++;
	else if (signo == SIGINT)
		c->got[1]++;
	event_base_loopbreak(c->base);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{

	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* Child: register the events, raise signals, check the callbacks. */
static int
signals_child(void *arg)
{
	struct sigctx c = { NULL, { 0, 0 } };
	struct daemon_signals *ds;
	struct sigaction sa;
	struct event *tmo;
	struct timeval tv = { 5, 0 };

	(void)arg;
	if ((c.base = event_base_new()) == NULL)
		return (50);
	if ((ds = daemon_signals_init(c.base, on_sig, &c)) == NULL)
		return (51);
	if (sigaction(SIGPIPE, NULL, &sa) || sa.sa_handler != SIG_IGN)
		return (52);
	tmo = evtimer_new(c.base, on_timeout, c.base);
	evtimer_add(tmo, &tv);
	kill(getpid(), SIGTERM);
	event_base_dispatch(c.base);
	if (c.got[0] != 1 || c.got[1] != 0)
		return (53);
	kill(getpid(), SIGINT);
	event_base_dispatch(c.base);
	if (c.got[0] != 1 || c.got[1] != 1)
		return (54);
	/* Persistent: a second SIGTERM calls back again. */
	kill(getpid(), SIGTERM);
	event_base_dispatch(c.base);
	if (c.got[0] != 2)
		return (55);
	daemon_signals_free(ds);
	daemon_signals_free(NULL);
	event_free(tmo);
	event_base_free(c.base);
	return (0);
}

static void
test_signals(void)
{

	CU_ASSERT_EQUAL(in_child(signals_child, NULL), 0);
	CU_ASSERT_EQUAL(daemon_ignore_sigpipe(), 0);
	CU_ASSERT_EQUAL(raise(SIGPIPE), 0);
}

UNIT_MAIN("daemon",
    { "pid file", test_pidfile },
    { "daemonize handshake", test_daemonize },
    { "foreground", test_foreground },
    { "drop privileges", test_drop_privs },
    { "signal events", test_signals })

__attribute__((constructor)) static void
setup(void)
{

	log_init("test_daemon");
	mainpid = getpid();
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
}

__attribute__((destructor)) static void
teardown(void)
{

	/* Forked children exit through here too: only the main one cleans. */
	if (getpid() == mainpid)
		rmdir(tmpdir);
}
