/*
 * spiped-keygen: make a new key file for spiped, spipe and kvlds, plain
 * (32 random bytes) or encrypted under a passphrase in the scrypt(1)
 * format; or describe an existing key file (--info).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyfile/keyfile.h"
#include "log/log.h"

#include "keygen.h"

/* Default --target-time, seconds. */
#define DEFAULT_TARGET_TIME	1.0

static void
usage(FILE *f)
{

	fprintf(f,
	    "usage: spiped-keygen [--passphrase METHOD:ARG] "
	    "[--target-time SECONDS]\n"
	    "                     [--target-memory SIZE] FILE\n"
	    "       spiped-keygen --info FILE\n"
	    "       spiped-keygen --check FILE [--passphrase METHOD:ARG]\n"
	    "                     [--max-memory SIZE] [--max-time SECONDS]\n"
	    "       spiped-keygen --help\n"
	    "\n"
	    "Write 32 random bytes to the new file FILE (mode 0600; an\n"
	    "existing file is never overwritten).  With --passphrase, write\n"
	    "them encrypted under the passphrase in the scrypt(1) format.\n"
	    "\n"
	    "  --passphrase METHOD:ARG  dev:tty-stdin (asks twice), "
	    "dev:stdin-once,\n"
	    "                           dev:tty-once, env:VAR, file:PATH\n"
	    "  --target-time SECONDS    scrypt time to aim for when the key "
	    "is\n"
	    "                           loaded (default 1)\n"
	    "  --target-memory SIZE     scrypt memory to use at most "
	    "(default:\n"
	    "                           a quarter of RAM, at most 512M)\n"
	    "  --info FILE              print FILE's format and scrypt "
	    "parameters\n"
	    "  --check FILE             load FILE as spiped would and print "
	    "its\n"
	    "                           fingerprint (SHA256 of the pipe key)\n"
	    "  --max-memory SIZE        with --check: refuse scrypt needing "
	    "more\n"
	    "                           (default: half of RAM, at most 1G)\n"
	    "  --max-time SECONDS       with --check: refuse scrypt taking "
	    "longer\n"
	    "                           (default 5)\n"
	    "  --help                   print this help\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "passphrase", required_argument, NULL, 'P' },
		{ "target-time", required_argument, NULL, 't' },
		{ "target-memory", required_argument, NULL, 'M' },
		{ "info", required_argument, NULL, 'i' },
		{ "check", required_argument, NULL, 'c' },
		{ "max-memory", required_argument, NULL, 'm' },
		{ "max-time", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct keyfile_opts kopts = { NULL, 0, 0 };
	const char *pass_method = NULL, *info_path = NULL, *check_path = NULL;
	double target_time = DEFAULT_TARGET_TIME;
	uint64_t target_memory;
	char *end;
	int ch;

	log_init(argv[0]);
	target_memory = keyfile_default_max_memory() / 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'P':
			if (keyfile_passphrase_check(optarg))
				exit(1);
			pass_method = optarg;
			break;
		case 't':
			errno = 0;
			target_time = strtod(optarg, &end);
			if (errno || end == optarg || *end != '\0' ||
			    !isfinite(target_time) || target_time <= 0) {
				warn0("--target-time: invalid number of "
				    "seconds \"%s\"", optarg);
				exit(1);
			}
			break;
		case 'M':
			if (keyfile_size_parse(optarg, &target_memory) ||
			    target_memory == 0) {
				warn0("--target-memory: invalid size \"%s\" "
				    "(bytes, or a number with K, M, G or T)",
				    optarg);
				exit(1);
			}
			break;
		case 'i':
			info_path = optarg;
			break;
		case 'c':
			check_path = optarg;
			break;
		case 'm':
			if (keyfile_option(&kopts, "max-memory", optarg) != 1)
				exit(1);
			break;
		case 'T':
			if (keyfile_option(&kopts, "max-time", optarg) != 1)
				exit(1);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(1);
		}
	}
	argc -= optind;
	argv += optind;

	if (check_path != NULL) {
		if (argc != 0 || info_path != NULL) {
			usage(stderr);
			exit(1);
		}
		kopts.passphrase = pass_method;
		exit(keygen_check(check_path, &kopts));
	}
	if (info_path != NULL) {
		if (argc != 0 || pass_method != NULL) {
			usage(stderr);
			exit(1);
		}
		exit(keygen_info(info_path));
	}
	if (argc != 1) {
		usage(stderr);
		exit(1);
	}
	exit(keygen_make(argv[0], pass_method, target_time, target_memory));
}
