/*
 * kvlds-undump: load a file written by kvlds-dump into a running kvlds
 * store.  The whole file is checked (format and SHA-256) before the first
 * pair is sent; the work is in load.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyfile/keyfile.h"
#include "kvclient/kvclient.h"
#include "log/log.h"
#include "parse/parse.h"

#include "kvlds/kvlds-dump/conn.h"
#include "kvlds/kvlds-dump/progress.h"

#include "load.h"

/* Default and largest number of SET requests in flight. */
#define WINDOW_DEFAULT	16384
#define WINDOW_MAX	65536

static void
usage(FILE *f)
{

	fprintf(f,
	    "usage: kvlds-undump -t ADDRESS [-K KEYFILE] [--passphrase "
	    "M:ARG] [-f]\n"
	    "                    [-w WINDOW] [-q | -p] FILE | -\n"
	    "\n"
	    "Check the kvlds-dump file FILE (or standard input) and store "
	    "its pairs\n"
	    "into the kvlds store at ADDRESS.\n"
	    "\n"
	    "%s"
	    "  -f, --force        load even if the store is not empty\n"
	    "  -w, --window N     SET requests in flight at most "
	    "(default %d)\n"
	    "%s%s%s"
	    "  -h, --help         print this help\n",
	    conn_usage_target, WINDOW_DEFAULT, progress_usage, conn_usage,
	    keyfile_opts_usage);
}

/* Copy standard input into an anonymous temporary file; return it. */
static FILE *
spool_stdin(void)
{
	char buf[65536];
	FILE *f;
	size_t n;

	if ((f = tmpfile()) == NULL) {
		warnp("tmpfile");
		return (NULL);
	}
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		if (fwrite(buf, 1, n, f) != n) {
			warnp("temporary file");
			goto err;
		}
	}
	if (ferror(stdin)) {
		warnp("standard input");
		goto err;
	}
	if (fflush(f)) {
		warnp("temporary file");
		goto err;
	}
	rewind(f);
	return (f);

err:
	fclose(f);
	return (NULL);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "window", required_argument, NULL, 'w' },
		PROGRESS_LONGOPTS,
		CONN_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct conn_opts co = { .addr = NULL };
	const char *path;
	struct load_stats st;
	struct progress *P;
	struct kvclient *K;
	FILE *f;
	int ch, bar, force = 0, window = WINDOW_DEFAULT, e;

	log_init(argv[0]);
	bar = progress_default();
	while ((ch = getopt_long(argc, argv,
	    CONN_SHORTOPTS PROGRESS_SHORTOPTS "fw:h", longopts, NULL)) != -1) {
		if ((e = conn_getopt(&co, ch, optarg)) != 0) {
			if (e < 0)
				exit(1);
			continue;
		}
		if (progress_getopt(&bar, ch))
			continue;
		switch (ch) {
		case 'f':
			force = 1;
			break;
		case 'w':
			if (parse_int(optarg, 1, WINDOW_MAX, &window)) {
				warnp("-w %s (1 to %d)", optarg, WINDOW_MAX);
				exit(1);
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(1);
		}
	}
	if ((co.addr == NULL) || (argc - optind != 1)) {
		usage(stderr);
		exit(1);
	}
	path = argv[optind];

	/* Check the whole file before touching the store. */
	if (strcmp(path, "-") == 0) {
		path = "standard input";
		if ((f = spool_stdin()) == NULL)
			exit(1);
	} else if ((f = fopen(path, "r")) == NULL) {
		warnp("%s", path);
		exit(1);
	}
	if ((P = progress_new("verify", bar)) == NULL)
		goto err0;
	e = load_verify(f, path, &st, P);
	progress_free(P);
	if (e) {
		warn0("%s: refused; nothing was loaded", path);
		goto err0;
	}

	if ((K = conn_open(&co)) == NULL)
		goto err0;
	if ((st.maxkey > kvclient_maxkey(K)) ||
	    (st.maxval > kvclient_maxval(K))) {
		warn0("%s: holds keys of up to %zu bytes and values of up to "
		    "%zu, over the server's limits (%zu, %zu)", path,
		    st.maxkey, st.maxval, kvclient_maxkey(K),
		    kvclient_maxval(K));
		goto err1;
	}
	if (!force) {
		if ((e = load_isempty(K)) < 0)
			goto err1;
		if (e == 0) {
			warn0("the store is not empty (use -f to load "
			    "anyway)");
			goto err1;
		}
	}
	if ((P = progress_new("undump", bar)) == NULL)
		goto err1;
	if (load_run(K, f, path, &st, (size_t)window, P))
		goto err2;

	progress_free(P);
	kvclient_free(K);
	fclose(f);
	exit(0);

err2:
	progress_free(P);
err1:
	kvclient_free(K);
err0:
	fclose(f);
	exit(1);
}
