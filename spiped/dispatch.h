#ifndef DISPATCH_H_
#define DISPATCH_H_

/*
 * dispatch: the listening socket of spiped.  Accepts connections and
 * hands each to conn, keeps at most -n of them open (when the limit is
 * reached it stops accepting, warns at a limited rate, and resumes as
 * soon as one closes), swaps in re-resolved target addresses, and on
 * shutdown stops accepting and lets the open connections finish.
 */

#include "conn.h"

struct event_base;
struct dispatch;

/**
 * dispatch_start(base, s, opts, targets, nmax):
 * Accept connections on the listening non-blocking socket ${s} (which
 * stays the caller's) within ${base}, each handled by conn with ${opts};
 * ${targets} (the dispatcher takes over the caller's reference) are the
 * target addresses; at most ${nmax} connections at once (0: no limit).
 * Returns NULL on failure.
 */
struct dispatch *dispatch_start(struct event_base *, int,
    const struct conn_opts *, struct conn_targets *, int);

/**
 * dispatch_set_targets(d, targets):
 * Use ${targets} (the dispatcher takes over the reference) for new
 * connections from now on; connections already connecting keep theirs.
 */
void dispatch_set_targets(struct dispatch *, struct conn_targets *);

/**
 * dispatch_shutdown(d):
 * Stop accepting; once no connection is left open, make the event loop
 * exit (at once if there are none).
 */
void dispatch_shutdown(struct dispatch *);

/**
 * dispatch_count(d):
 * The number of connections open now.
 */
int dispatch_count(const struct dispatch *);

/**
 * dispatch_free(d):
 * Free ${d} (connections still open are not touched; call only after the
 * event loop ended).  NULL is a no-op.
 */
void dispatch_free(struct dispatch *);

#endif /* !DISPATCH_H_ */
