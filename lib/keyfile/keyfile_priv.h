#ifndef KEYFILE_PRIV_H_
#define KEYFILE_PRIV_H_

/* Private to lib/keyfile: not for other modules. */

/**
 * keyfile_warnx(fmt, ...):
 * Report the formatted message through lib/log's warn0 (standard error as
 * "progname: message", or syslog in a daemon).
 */
void keyfile_warnx(const char *, ...)
    __attribute__((format(printf, 1, 2)));

#endif /* !KEYFILE_PRIV_H_ */
