/*
 * kvlds-dump: write every pair of a running kvlds store to a file (or
 * standard output), with a trailing SHA-256 checksum; kvlds-undump loads
 * it back.  The format is in FORMAT.md, the work in dump.c.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyfile/keyfile.h"
#include "kvclient/kvclient.h"
#include "log/log.h"

#include "conn.h"
#include "dump.h"
#include "progress.h"

static void
usage(FILE *f)
{

	fprintf(f,
	    "usage: kvlds-dump -t ADDRESS [-K KEYFILE] [--passphrase M:ARG] "
	    "[-q | -p] [--no-snapshot] FILE | -\n"
	    "\n"
	    "Write every pair of the kvlds store at ADDRESS to FILE (written\n"
	    "to a temporary name, synced, then renamed) or to standard "
	    "output,\n"
	    "as the state of one commit (a snapshot read).\n"
	    "\n"
	    "%s%s"
	    "  --no-snapshot      plain RANGE walk (for a kivaloo server; "
	    "not\n"
	    "                     consistent while writes go on)\n"
	    "%s%s"
	    "  -h, --help         print this help\n",
	    conn_usage_target, progress_usage, conn_usage,
	    keyfile_opts_usage);
}

/*
 * Open a temporary file beside ${path}: return the stream and store its
 * malloc'd name in *${tmp}, or return NULL (printed).
 */
static FILE *
tmpopen(const char *path, char **tmp)
{
	FILE *f;
	int fd;

	if (asprintf(tmp, "%s.XXXXXX", path) < 0) {
		warnp("asprintf");
		return (NULL);
	}
	if ((fd = mkstemp(*tmp)) < 0) {
		warnp("%s", *tmp);
		goto err0;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		warnp("fdopen");
		close(fd);
		goto err1;
	}
	return (f);

err1:
	unlink(*tmp);
err0:
	free(*tmp);
	*tmp = NULL;
	return (NULL);
}

/* Make the rename of ${path} durable: fsync its directory. */
static int
syncdir(const char *path)
{
	char *copy, *dir;
	FILE *d;
	int rc = -1;

	if ((copy = strdup(path)) == NULL) {
		warnp("strdup");
		return (-1);
	}
	dir = dirname(copy);
	if ((d = fopen(dir, "r")) == NULL) {
		warnp("%s", dir);
		goto done;
	}
	if (fsync(fileno(d)) && (errno != EINVAL))
		warnp("fsync %s", dir);
	else
		rc = 0;
	fclose(d);
done:
	free(copy);
	return (rc);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		PROGRESS_LONGOPTS,
		CONN_LONGOPTS,
		{ "no-snapshot", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct conn_opts co = { .addr = NULL };
	const char *path;
	struct progress *P;
	struct kvclient *K;
	char *tmp = NULL;
	FILE *f;
	int ch, e, bar, snap = 1;

	log_init(argv[0]);
	bar = progress_default();
	while ((ch = getopt_long(argc, argv,
	    CONN_SHORTOPTS PROGRESS_SHORTOPTS "h", longopts, NULL)) != -1) {
		if ((e = conn_getopt(&co, ch, optarg)) != 0) {
			if (e < 0)
				exit(1);
			continue;
		}
		if (progress_getopt(&bar, ch))
			continue;
		switch (ch) {
		case 'S':
			snap = 0;
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

	if ((K = conn_open(&co)) == NULL)
		exit(1);
	if ((P = progress_new("dump", bar)) == NULL)
		goto err1;
	if (strcmp(path, "-") == 0) {
		f = stdout;
		path = "standard output";
	} else if ((f = tmpopen(path, &tmp)) == NULL) {
		goto err2;
	}

	if (dump_run(K, f, (tmp != NULL) ? tmp : path, P, bar, snap))
		goto err3;
	if (tmp != NULL) {
		if (fsync(fileno(f))) {
			warnp("fsync %s", tmp);
			goto err3;
		}
		if (fclose(f)) {
			f = NULL;
			warnp("%s", tmp);
			goto err3;
		}
		f = NULL;
		if (rename(tmp, path)) {
			warnp("rename %s to %s", tmp, path);
			goto err3;
		}
		free(tmp);
		tmp = NULL;
		if (syncdir(path))
			goto err2;
	}
	progress_free(P);
	kvclient_free(K);
	exit(0);

err3:
	if (tmp != NULL) {
		if (f != NULL)
			fclose(f);
		unlink(tmp);
		free(tmp);
	}
err2:
	progress_free(P);
err1:
	kvclient_free(K);
	exit(1);
}
