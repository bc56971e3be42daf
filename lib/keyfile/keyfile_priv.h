#ifndef KEYFILE_PRIV_H_
#define KEYFILE_PRIV_H_

/* Private to lib/keyfile: not for other modules. */

/**
 * keyfile_warnx(fmt, ...):
 * Print "progname: " and the formatted message and a newline on standard
 * error.
 */
void keyfile_warnx(const char *, ...)
    __attribute__((format(printf, 1, 2)));

#endif /* !KEYFILE_PRIV_H_ */
