#ifndef KEYFILE_PRIV_H_
#define KEYFILE_PRIV_H_

/* Private to lib/keyfile: not for other modules. */

#include "log/log.h"

/*
 * keyfile_warnx(fmt, ...):
 * Report an error through lib/log (standard error as "progname: message",
 * or syslog in a daemon).
 */
#define keyfile_warnx warn0

#endif /* !KEYFILE_PRIV_H_ */
