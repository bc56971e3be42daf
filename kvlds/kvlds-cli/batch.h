#ifndef BATCH_H_
#define BATCH_H_

/*
 * batch: kvlds-cli's batch mode.  Commands are read from a file
 * descriptor, one per line, and sent on one connection with up to a
 * window of them in flight at once; the result of each is printed (in
 * the CMD_BATCH style of cmd.h) in input order.
 *
 * A line is split into words at blanks (spaces and tabs); a word may be
 * written between double quotes to hold blanks, and "" is the empty
 * word.  Empty lines and lines starting with '#' are skipped and print
 * nothing.  A line that does not parse prints "2" (the message goes to
 * standard error with the line number) and the run goes on.
 *
 * Ordering: the results are those of running the lines one after the
 * other.  Reads (get, range, params) are pipelined with reads and
 * modifications with modifications (the server keeps the order of
 * modifications of one key on one connection); when a line switches
 * between the two, the batch waits for every request in flight first,
 * since the protocol does not order a read against an unanswered write.
 *
 * Output is flushed whenever nothing is left in flight, so a program
 * driving kvlds-cli through pipes line by line sees every answer before
 * it has to write the next line.
 */

#include "enc.h"

struct kvclient;

/**
 * batch_run(K, mode, fd, window):
 * Run the commands read from ${fd} (until end of file) on ${K}, keys and
 * values in the encoding ${mode}, with at most ${window} (>= 1) commands
 * in flight; print the results to standard output.  Return the exit
 * status of the run: 0 if every line ran (whatever its status), 2 if a
 * line did not parse, a request failed, or reading or writing failed (a
 * failed connection ends the run).
 */
int batch_run(struct kvclient *, enum enc_mode, int, size_t);

#endif /* !BATCH_H_ */
