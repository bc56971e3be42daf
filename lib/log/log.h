#ifndef LOG_H_
#define LOG_H_

/*
 * log: diagnostics for every program of the suite.
 *
 * Messages go to standard error as "progname: message\n" (one write(2) per
 * line, so lines from several threads never interleave), or to syslog(3)
 * once log_syslog(1) was called (a daemonized program has no terminal).
 * Every function here is safe to call before log_init() (the program name
 * is then "kvsuite") and from any thread; none of them changes errno.
 *
 * Levels: errors (warn0, warnp) and log_info are always printed;
 * log_debug only when the verbosity set by log_set_verbosity() is >= 1.
 *
 * Per-connection errors in a busy daemon go through log_ratelimited() /
 * log_ratelimitedp(): at most log_ratelimit_set() lines per second (10
 * by default) are printed; the others are counted and the count is
 * reported ("N similar messages suppressed") on the next line printed in a
 * later second, so a flood of bad clients cannot fill the disk or hide
 * other messages.
 */

#include <stdint.h>

/**
 * log_init(progname):
 * Set the program name that prefixes every message to the basename of
 * ${progname} (e.g. argv[0]); the string is copied (at most 63 bytes are
 * kept).  Call once at the start of main().
 */
void log_init(const char *);

/**
 * log_syslog(on):
 * If ${on} is non-zero, send every later message to syslog(3) (facility
 * LOG_DAEMON, tagged with the program name and pid) instead of standard
 * error; if zero, go back to standard error (and closelog()).
 */
void log_syslog(int);

/**
 * log_set_verbosity(level):
 * Set the verbosity: 0 (default) prints errors and information; 1 or more
 * also prints log_debug() messages.
 */
void log_set_verbosity(int);

/**
 * log_verbosity(void):
 * Return the verbosity set by log_set_verbosity().
 */
int log_verbosity(void);

/**
 * warn0(fmt, ...):
 * Print an error message built from the printf-style ${fmt}: the line is
 * "progname: message".  Use it when errno means nothing for the error.
 */
void warn0(const char *, ...) __attribute__((format(printf, 1, 2)));

/**
 * warnp(fmt, ...):
 * Like warn0() but append ": " and strerror(errno) (errno as it was at the
 * call; it is preserved), like warn(3).
 */
void warnp(const char *, ...) __attribute__((format(printf, 1, 2)));

/**
 * log_info(fmt, ...):
 * Print an informational message (syslog priority LOG_INFO).
 */
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));

/**
 * log_debug(fmt, ...):
 * Print a debugging message, only if the verbosity is >= 1 (syslog
 * priority LOG_DEBUG).
 */
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

/**
 * log_ratelimit_set(per_second):
 * Allow at most ${per_second} rate-limited lines per second (0 suppresses
 * them all, but they are still counted).  The default is 10.
 */
void log_ratelimit_set(unsigned int);

/**
 * log_ratelimited(fmt, ...):
 * Like warn0(), but subject to the rate limit shared by every rate-limited
 * call of the process: a line past the limit of the current second is not
 * printed, only counted.  The first line printed after suppressions is
 * preceded by "progname: N similar messages suppressed".
 */
void log_ratelimited(const char *, ...) __attribute__((format(printf, 1, 2)));

/**
 * log_ratelimitedp(fmt, ...):
 * Like log_ratelimited() but append ": " and strerror(errno), as warnp().
 */
void log_ratelimitedp(const char *, ...) __attribute__((format(printf, 1, 2)));

/**
 * log_ratelimit_suppressed(void):
 * Return the total number of rate-limited lines suppressed since the
 * program started (for statistics and tests).
 */
uint64_t log_ratelimit_suppressed(void);

#endif /* !LOG_H_ */
