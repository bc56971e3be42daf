#ifndef CMD_H_
#define CMD_H_

/*
 * cmd: the commands of kvlds-cli, parsed from words (the command line or
 * one batch line) and run asynchronously on a kvclient connection, their
 * results written to an evbuffer.
 *
 *	get KEY			params
 *	set KEY VALUE		add KEY VALUE		modify KEY VALUE
 *	cas KEY OLD NEW		delete KEY		cad KEY OLD
 *	range [START [END]]
 *
 * Every command ends with an exit status: 0 (done, found), 1 (the
 * condition did not hold: GET or MODIFY key absent, ADD key existed, CAS
 * or CAD old value differed) or 2 (error: the connection failed).
 *
 * Output, in the style CMD_PLAIN (one command per run):
 *	get	the value and a newline when found; nothing when absent
 *	range	one line "KEY<TAB>VALUE" per pair, in key order (a long
 *		listing is written to standard output as it arrives)
 *	params	"maxkey N" and "maxval N" lines
 *	others	nothing
 * In the style CMD_BATCH every command prints one line that starts with
 * its status digit: "0", "1" or "2"; GET adds "<TAB>VALUE" when found,
 * PARAMS "<TAB>MAXKEY<TAB>MAXVAL", and RANGE "<TAB>COUNT" followed by
 * COUNT lines "KEY<TAB>VALUE".  Keys and values are printed in the
 * run's encoding (enc.h).
 */

#include <stddef.h>
#include <stdint.h>

#include "enc.h"

struct evbuffer;
struct kvclient;

/* Output styles. */
#define CMD_PLAIN	0
#define CMD_BATCH	1

/* Commands. */
enum cmd_op {
	CMD_GET, CMD_SET, CMD_ADD, CMD_MODIFY, CMD_CAS, CMD_DELETE,
	CMD_CAD, CMD_RANGE, CMD_PARAMS
};

/* A parsed command: decoded keys and values. */
struct cmd {
	enum cmd_op op;
	uint8_t key[256];
	size_t keylen;
	uint8_t val[256];
	size_t vallen;
	uint8_t old[256];
	size_t oldlen;
	uint8_t end[256];
	size_t endlen;
};

/* A word of a command: ${len} characters at ${s}, not NUL-terminated. */
struct cmd_word {
	const char *s;
	size_t len;
};

/* Completion callback: (cookie, exit status 0, 1 or 2). */
typedef void cmd_done_cb(void *, int);

/**
 * cmd_parse(mode, words, nwords, cmd, err, errlen):
 * Parse the ${nwords} words at ${words} (the command name and its
 * arguments, decoded in the encoding ${mode}) into ${cmd}.  Return 0, or
 * -1 with a message (unknown command, wrong number of arguments, badly
 * encoded argument) written into ${err} (${errlen} bytes).  Prints
 * nothing.
 */
int cmd_parse(enum enc_mode, const struct cmd_word *, size_t, struct cmd *,
    char *, size_t);

/**
 * cmd_ismodifying(cmd):
 * Return non-zero if ${cmd} modifies the store.
 */
int cmd_ismodifying(const struct cmd *);

/**
 * cmd_start(K, cmd, mode, style, out, cb, cookie):
 * Send ${cmd} on ${K} (the command is copied as needed; ${cmd} may be
 * reused at once).  When it completes, append its output in the style
 * ${style} and the encoding ${mode} to the evbuffer ${out} (which must
 * stay alive until then) and call ${cb}(${cookie}, status).  The callback
 * is called from ${K}'s event loop, or before cmd_start returns for
 * PARAMS (whose answer the client already has) and for a request that
 * could not be sent (status 2, message printed).  Return 0, or -1 if
 * memory ran out (nothing is called then).
 */
int cmd_start(struct kvclient *, const struct cmd *, enum enc_mode, int,
    struct evbuffer *, cmd_done_cb *, void *);

#endif /* !CMD_H_ */
