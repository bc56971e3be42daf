/*
 * log: see log.h.
 *
 * Each line is formatted into a local buffer and written with a single
 * write(2) (or syslog(3) call), so concurrent threads never interleave
 * within a line.  The shared state (program name, destination, rate
 * limiter) is guarded by one mutex; formatting happens outside it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	2048

static pthread_mutex_t log_mtx = PTHREAD_MUTEX_INITIALIZER;
static char log_progname[64] = "kvsuite";
static int log_use_syslog;
static int log_level;

/* Rate limiter: lines printed in second rl_sec, suppressed since last. */
static unsigned int rl_limit = 10;
static time_t rl_sec;
static unsigned int rl_count;
static uint64_t rl_pending;
static uint64_t rl_total;

/**
 * log_init(progname):
 * Set the program name that prefixes every message to the basename of
 * ${progname}; the string is copied.
 */
void
log_init(const char *progname)
{
	const char *p;

	if (progname == NULL)
		return;
	if ((p = strrchr(progname, '/')) != NULL && p[1] != '\0')
		progname = p + 1;
	pthread_mutex_lock(&log_mtx);
	snprintf(log_progname, sizeof(log_progname), "%s", progname);
	if (log_use_syslog) {
		/* Reopen so that the new tag is used. */
		closelog();
		openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	pthread_mutex_unlock(&log_mtx);
}

/**
 * log_syslog(on):
 * Send later messages to syslog (${on} non-zero) or standard error.
 */
void
log_syslog(int on)
{
	int saved = errno;

	pthread_mutex_lock(&log_mtx);
	if (on && !log_use_syslog)
		openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!on && log_use_syslog)
		closelog();
	log_use_syslog = on ? 1 : 0;
	pthread_mutex_unlock(&log_mtx);
	errno = saved;
}

/**
 * log_set_verbosity(level):
 * Set the verbosity (>= 1 enables log_debug).
 */
void
log_set_verbosity(int level)
{

	pthread_mutex_lock(&log_mtx);
	log_level = level;
	pthread_mutex_unlock(&log_mtx);
}

/**
 * log_verbosity(void):
 * Return the verbosity.
 */
int
log_verbosity(void)
{
	int level;

	pthread_mutex_lock(&log_mtx);
	level = log_level;
	pthread_mutex_unlock(&log_mtx);
	return (level);
}

/*
 * Emit one finished message ${msg} at syslog priority ${prio}.  The
 * caller holds log_mtx.
 */
static void
emit_locked(int prio, const char *msg)
{
	char line[LOG_LINE_MAX + 80];
	size_t len, off;
	ssize_t w;

	if (log_use_syslog) {
		syslog(prio, "%s", msg);
		return;
	}
	len = (size_t)snprintf(line, sizeof(line), "%s: %s\n", log_progname,
	    msg);
	if (len >= sizeof(line)) {
		/* Truncated: keep the newline. */
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	for (off = 0; off < len; off += (size_t)w) {
		w = write(STDERR_FILENO, line + off, len - off);
		if (w == -1) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			/* Nowhere left to report this. */
			return;
		}
	}
}

/*
 * Format ${fmt}/${ap}, append strerror(${errnum}) if ${errnum} >= 0, and
 * return the message in ${buf} of ${size} bytes.
 */
static void
format(char *buf, size_t size, int errnum, const char *fmt, va_list ap)
{
	size_t len;
	char ebuf[128];

	vsnprintf(buf, size, fmt, ap);
	if (errnum < 0)
		return;
	len = strlen(buf);
	if (len + 2 < size)
		snprintf(buf + len, size - len, ": %s",
		    strerror_r(errnum, ebuf, sizeof(ebuf)));
}

/* Format and emit one message; errnum -1 means "no strerror". */
static void
vlog(int prio, int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];

	format(msg, sizeof(msg), errnum, fmt, ap);
	pthread_mutex_lock(&log_mtx);
	emit_locked(prio, msg);
	pthread_mutex_unlock(&log_mtx);
}

/**
 * warn0(fmt, ...):
 * Print an error message without errno.
 */
void
warn0(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_ERR, -1, fmt, ap);
	va_end(ap);
	errno = saved;
}

/**
 * warnp(fmt, ...):
 * Print an error message followed by strerror(errno).
 */
void
warnp(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_ERR, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

/**
 * log_info(fmt, ...):
 * Print an informational message.
 */
void
log_info(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_INFO, -1, fmt, ap);
	va_end(ap);
	errno = saved;
}

/**
 * log_debug(fmt, ...):
 * Print a debugging message if the verbosity is >= 1.
 */
void
log_debug(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (log_verbosity() < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, -1, fmt, ap);
	va_end(ap);
	errno = saved;
}

/**
 * log_ratelimit_set(per_second):
 * Allow at most ${per_second} rate-limited lines per second.
 */
void
log_ratelimit_set(unsigned int per_second)
{

	pthread_mutex_lock(&log_mtx);
	rl_limit = per_second;
	pthread_mutex_unlock(&log_mtx);
}

/* The rate-limited path shared by log_ratelimited{,p}. */
static void
vlog_rl(int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	char note[80];
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&log_mtx);
	if (ts.tv_sec != rl_sec) {
		rl_sec = ts.tv_sec;
		rl_count = 0;
	}
	if (rl_count >= rl_limit) {
		/* Over the limit for this second: count only. */
		rl_pending++;
		rl_total++;
		pthread_mutex_unlock(&log_mtx);
		return;
	}
	rl_count++;
	if (rl_pending > 0) {
		snprintf(note, sizeof(note),
		    "%llu similar messages suppressed",
		    (unsigned long long)rl_pending);
		emit_locked(LOG_ERR, note);
		rl_pending = 0;
	}
	pthread_mutex_unlock(&log_mtx);

	/* Format outside the lock; the budget is already taken. */
	format(msg, sizeof(msg), errnum, fmt, ap);
	pthread_mutex_lock(&log_mtx);
	emit_locked(LOG_ERR, msg);
	pthread_mutex_unlock(&log_mtx);
}

/**
 * log_ratelimited(fmt, ...):
 * Like warn0(), subject to the process-wide rate limit.
 */
void
log_ratelimited(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog_rl(-1, fmt, ap);
	va_end(ap);
	errno = saved;
}

/**
 * log_ratelimitedp(fmt, ...):
 * Like warnp(), subject to the process-wide rate limit.
 */
void
log_ratelimitedp(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog_rl(saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

/**
 * log_ratelimit_suppressed(void):
 * Return the total number of suppressed rate-limited lines.
 */
uint64_t
log_ratelimit_suppressed(void)
{
	uint64_t n;

	pthread_mutex_lock(&log_mtx);
	n = rl_total;
	pthread_mutex_unlock(&log_mtx);
	return (n);
}
