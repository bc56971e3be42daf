/*
 * keybench: how long loading a passphrase-protected key takes here.
 *
 * Encrypts a 32-byte key in memory with scrypt N = 2^14, r = 8, p = 1
 * (the parameters of a typical key file), then times
 * keyfile_scrypt_decrypt on it: the whole decryption (scrypt, both HMAC
 * checks, AES-CTR), as the key loader does it, without file or terminal
 * I/O.  Prints the fastest and median of the runs, the loader's own
 * estimate, and whether the fastest meets the 0.2 s target.  Then
 * writes the file to a temporary folder and times one keyfile_load of
 * it, the whole path of a program start (read, speed measurement for
 * --max-time, passphrase from the environment, decryption, hash).
 *
 * usage: keybench [-n RUNS] [-N LOGN] [-r R] [-p P]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keyfile/keyfile.h"
#include "log/log.h"

#define TARGET_SECONDS	0.2
#define MAXRUNS		100

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

/*
 * Write the ${len} bytes at ${enc} to a temporary file and time one
 * keyfile_load of it with the passphrase ${pass} from the environment.
 */
static int
time_load(const uint8_t *enc, size_t len, const char *pass, double *secs)
{
	char dir[] = "/tmp/keybench.XXXXXX", path[64];
	struct keyfile_opts opts = { "env:KEYBENCH_PASS", 0, 0 };
	uint8_t K[32];
	FILE *f;
	double t0;
	int rc;

	if (mkdtemp(dir) == NULL) {
		warnp("mkdtemp");
		return (-1);
	}
	snprintf(path, sizeof(path), "%s/key", dir);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(enc, 1, len, f) != len || fclose(f) != 0) {
		warnp("cannot write %s", path);
		rmdir(dir);
		return (-1);
	}
	setenv("KEYBENCH_PASS", pass, 1);
	t0 = now();
	rc = keyfile_load(path, &opts, K);
	*secs = now() - t0;
	unlink(path);
	rmdir(dir);
	return (rc);
}

int
main(int argc, char *argv[])
{
	static const char pass[] = "keybench passphrase";
	struct keyfile_params pr = { 14, 8, 1 };
	uint8_t key[32], *enc, *dec;
	size_t enclen, declen;
	double t[MAXRUNS], t0, est, opps, tload;
	char mem[32];
	int runs = 5, ch, i;

	log_init(argv[0]);
	while ((ch = getopt(argc, argv, "n:N:r:p:")) != -1) {
		switch (ch) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 'N':
			pr.logN = atoi(optarg);
			break;
		case 'r':
			pr.r = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			pr.p = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: keybench [-n RUNS] [-N LOGN] "
			    "[-r R] [-p P]\n");
			exit(1);
		}
	}
	if (runs < 1 || runs > MAXRUNS || pr.logN < 1 || pr.logN > 30) {
		fprintf(stderr, "keybench: runs 1..%d, logN 1..30\n", MAXRUNS);
		exit(1);
	}

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	if (keyfile_scrypt_encrypt(key, sizeof(key), (const uint8_t *)pass,
	    strlen(pass), &pr, &enc, &enclen) != KEYFILE_OK) {
		fprintf(stderr, "keybench: encryption failed\n");
		exit(1);
	}
	for (i = 0; i < runs; i++) {
		t0 = now();
		if (keyfile_scrypt_decrypt(enc, enclen, (const uint8_t *)pass,
		    strlen(pass), 0, 0, &dec, &declen) != KEYFILE_OK ||
		    declen != 32 || memcmp(dec, key, 32) != 0) {
			fprintf(stderr, "keybench: decryption failed\n");
			exit(1);
		}
		t[i] = now() - t0;
		keyfile_secmem_free(dec);
	}
	if (time_load(enc, enclen, pass, &tload))
		exit(1);
	free(enc);
	qsort(t, (size_t)runs, sizeof(t[0]), cmp_double);
	if (keyfile_params_speed(&opps) || keyfile_params_time(&pr, &est))
		exit(1);

	printf("keybench: scrypt N=2^%d r=%u p=%u (%s), %d runs\n", pr.logN,
	    pr.r, pr.p, keyfile_size_format(keyfile_params_memory(&pr), mem,
	    sizeof(mem)), runs);
	printf("decrypt_seconds_min %.4f\n", t[0]);
	printf("decrypt_seconds_median %.4f\n", t[runs / 2]);
	printf("decrypt_seconds_max %.4f\n", t[runs - 1]);
	printf("estimated_seconds %.4f (measured speed %.3g ops/s)\n", est,
	    opps);
	printf("keyfile_load_seconds %.4f (file, env: passphrase, default "
	    "limits)\n", tload);
	printf("target %.1f s: %s\n", TARGET_SECONDS,
	    t[0] < TARGET_SECONDS ? "met" : "MISSED");
	return (0);
}
