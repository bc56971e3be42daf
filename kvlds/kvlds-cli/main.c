/*
 * kvlds-cli: send kvlds requests from the command line or a script.
 *
 *	kvlds-cli -t ADDRESS [options] COMMAND [ARG ...]
 *	kvlds-cli -t ADDRESS [options] batch	(or "-")
 *
 * Exit status: 0 done or found, 1 condition not met or key absent, 2
 * error.  The commands and the output are described in cmd.h, the batch
 * mode in batch.h, and both in kvlds-cli(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "keyfile/keyfile.h"
#include "kvclient/kvclient.h"
#include "log/log.h"
#include "parse/parse.h"

#include "kvlds/kvlds-dump/conn.h"

#include "batch.h"
#include "cmd.h"
#include "enc.h"
#include "out.h"

/* Default and largest batch window. */
#define WINDOW_DEFAULT	16384
#define WINDOW_MAX	65536

/* Exit statuses. */
#define EXIT_NO		1
#define EXIT_ERR	2

/* Completion of the one command: store its exit status. */
static void
cmd_status(void *cookie, int status)
{
	int *rc = cookie;

	*rc = status;
}

static void
usage(FILE *f)
{

	fprintf(f,
	    "usage: kvlds-cli -t ADDRESS [-K KEYFILE] [--passphrase M:ARG] "
	    "[-x | -e]\n"
	    "                 COMMAND [ARG ...]\n"
	    "       kvlds-cli -t ADDRESS [...] [-w WINDOW] batch | -\n"
	    "\n"
	    "commands:\n"
	    "  get KEY            print the value (exit 1 if absent)\n"
	    "  set KEY VALUE      store VALUE under KEY\n"
	    "  add KEY VALUE      store if KEY is absent (exit 1 if "
	    "present)\n"
	    "  modify KEY VALUE   store if KEY is present (exit 1 if "
	    "absent)\n"
	    "  cas KEY OLD NEW    replace OLD by NEW (exit 1 if KEY does "
	    "not hold OLD)\n"
	    "  delete KEY         delete KEY\n"
	    "  cad KEY OLD        delete KEY if it holds OLD (exit 1 if "
	    "not)\n"
	    "  range [START [END]] print KEY<TAB>VALUE for START <= KEY < "
	    "END\n"
	    "  params             print the server's key and value limits\n"
	    "  batch, -           read commands from standard input, one "
	    "per line\n"
	    "\n"
	    "options:\n"
	    "%s"
	    "  -x, --hex          keys and values in hex (input and "
	    "output)\n"
	    "  -e, --escape       keys and values with C escapes (\\xNN, "
	    "\\n, \\\\)\n"
	    "  -w, --window N     batch: commands in flight at most "
	    "(default %d)\n"
	    "%s%s"
	    "  -h, --help         print this help\n"
	    "exit status: 0 done, 1 condition not met or key absent, 2 "
	    "error\n",
	    conn_usage_target, WINDOW_DEFAULT, conn_usage,
	    keyfile_opts_usage);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "hex", no_argument, NULL, 'x' },
		{ "escape", no_argument, NULL, 'e' },
		{ "window", required_argument, NULL, 'w' },
		CONN_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct conn_opts co = { .addr = NULL };
	enum enc_mode mode = ENC_TEXT;
	struct cmd_word words[8];
	struct evbuffer *out;
	struct kvclient *K;
	struct cmd cmd;
	char err[256];
	int ch, e, i, nwords, window = WINDOW_DEFAULT, isbatch;
	int rc = EXIT_ERR;

	log_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "+" CONN_SHORTOPTS "xew:h", longopts,
	    NULL)) != -1) {
		if ((e = conn_getopt(&co, ch, optarg)) != 0) {
			if (e < 0)
				exit(EXIT_ERR);
			continue;
		}
		switch (ch) {
		case 'x':
			mode = ENC_HEX;
			break;
		case 'e':
			mode = ENC_ESCAPE;
			break;
		case 'w':
			if (parse_int(optarg, 1, WINDOW_MAX, &window)) {
				warnp("-w %s (1 to %d)", optarg, WINDOW_MAX);
				exit(EXIT_ERR);
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(EXIT_ERR);
		}
	}
	argc -= optind;
	argv += optind;
	if (co.addr == NULL) {
		warn0("-t ADDRESS is required");
		usage(stderr);
		exit(EXIT_ERR);
	}
	if (argc < 1) {
		warn0("no command");
		usage(stderr);
		exit(EXIT_ERR);
	}

	/* Parse the command before connecting: usage errors cost nothing. */
	isbatch = (strcmp(argv[0], "batch") == 0) ||
	    (strcmp(argv[0], "-") == 0);
	if (isbatch) {
		if (argc > 1) {
			warn0("batch takes no arguments");
			exit(EXIT_ERR);
		}
	} else {
		nwords = argc;
		if (nwords > (int)(sizeof(words) / sizeof(words[0]))) {
			warn0("too many arguments");
			exit(EXIT_ERR);
		}
		for (i = 0; i < nwords; i++) {
			words[i].s = argv[i];
			words[i].len = strlen(argv[i]);
		}
		if (cmd_parse(mode, words, (size_t)nwords, &cmd, err,
		    sizeof(err))) {
			warn0("%s", err);
			exit(EXIT_ERR);
		}
	}

	/* Connect, through the encrypted transport if given a key. */
	if ((K = conn_open(&co)) == NULL)
		exit(EXIT_ERR);

	if (isbatch) {
		rc = batch_run(K, mode, 0, (size_t)window);
		goto done;
	}

	if ((out = evbuffer_new()) == NULL) {
		warn0("evbuffer_new failed");
		goto err1;
	}
	rc = -1;
	if (cmd_start(K, &cmd, mode, CMD_PLAIN, out, cmd_status, &rc))
		goto err2;
	if (rc < 0)
		(void)kvclient_wait(K, 0);
	if (rc < 0) {
		warn0("connection lost");
		rc = EXIT_ERR;
	}
	if (out_write(out))
		rc = EXIT_ERR;
	evbuffer_free(out);
done:
	kvclient_free(K);
	exit(rc);

err2:
	evbuffer_free(out);
err1:
	kvclient_free(K);
	exit(EXIT_ERR);
}
