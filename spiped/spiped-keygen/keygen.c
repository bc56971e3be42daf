/*
 * The work of spiped-keygen: making a key file and describing one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "keyfile/keyfile.h"
#include "log/log.h"
#include "sock/sock.h"

#include "keygen.h"

/* Bytes of key a new file holds. */
#define KEYLEN		32

/* Read all of the file ${path} into locked memory. */
static int
slurp(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	ssize_t r;
	size_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		warnp("cannot open %s", path);
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		warn0("%s: not a regular file", path);
		goto err1;
	}
	if (st.st_size > (off_t)64 * 1024 * 1024) {
		warn0("%s: too large to be a key file", path);
		goto err1;
	}
	if ((*buf = keyfile_secmem_alloc((size_t)st.st_size)) == NULL)
		goto err1;
	for (n = 0; n < (size_t)st.st_size; n += (size_t)r) {
		r = read(fd, *buf + n, (size_t)st.st_size - n);
		if (r == -1 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0) {
			warnp("cannot read %s", path);
			keyfile_secmem_free(*buf);
			goto err1;
		}
	}
	*len = n;
	close(fd);
	return (0);

err1:
	close(fd);
	return (-1);
}

/**
 * keygen_info(path):
 * Print the format of the key file ${path} and, for a scrypt-encrypted
 * one, its parameters, memory and estimated decryption time on standard
 * output.  Returns the exit status: 0, or 1 if the file is unreadable or
 * unusable as a key (error printed).
 */
int
keygen_info(const char *path)
{
	struct keyfile_params pr;
	enum keyfile_err err;
	uint8_t *buf;
	size_t len;
	char mem[32];
	double t;

	if (slurp(path, &buf, &len))
		return (1);
	if (!keyfile_scrypt_detect(buf, len)) {
		printf("%s: plain key file, %zu bytes\n", path, len);
		if (len == 0)
			printf("  empty: refused as a key\n");
		else if (len < 32)
			printf("  warning: fewer than 32 bytes (256 bits)\n");
		keyfile_secmem_free(buf);
		return (len == 0);
	}
	err = keyfile_scrypt_parse(buf, len, &pr);
	keyfile_secmem_free(buf);
	if (err == KEYFILE_EVERSION || err == KEYFILE_ETRUNC) {
		printf("%s: scrypt-encrypted key file, unusable: %s\n", path,
		    keyfile_strerror(err));
		return (1);
	}
	printf("%s: scrypt-encrypted key file (format version 0), "
	    "%zu bytes of key\n", path, len - KEYFILE_SCRYPT_OVERHEAD);
	printf("  N = 2^%d, r = %u, p = %u\n", pr.logN, pr.r, pr.p);
	if (err != KEYFILE_OK) {
		printf("  unusable: %s\n", keyfile_strerror(err));
		return (1);
	}
	if (keyfile_params_time(&pr, &t))
		return (1);
	printf("  memory: %s\n", keyfile_size_format(
	    keyfile_params_memory(&pr), mem, sizeof(mem)));
	printf("  estimated time to decrypt on this machine: %.2f s\n", t);
	return (0);
}

/**
 * keygen_make(path, pass_method, target_time, target_memory):
 * Create the new file ${path} (mode 0600, never overwriting) holding 32
 * random bytes, or, if ${pass_method} is not NULL, those bytes encrypted
 * in the scrypt format under a passphrase read as ${pass_method} says
 * (confirmed twice from a terminal), with parameters chosen for
 * ${target_time} seconds and ${target_memory} bytes.  Prints the chosen
 * parameters on standard error.  Returns the exit status: 0, or 1 after
 * printing an error (the file is then removed).
 */
int
keygen_make(const char *path, const char *pass_method, double target_time,
    uint64_t target_memory)
{
	struct keyfile_params pr;
	enum keyfile_err err;
	uint8_t *key, *enc = NULL;
	const uint8_t *out;
	size_t enclen = 0, outlen;
	char *pass;
	size_t passlen;
	char mem[32];
	double t;
	int fd;

	if ((key = keyfile_secmem_alloc(KEYLEN)) == NULL)
		return (1);
	if (RAND_bytes(key, KEYLEN) != 1) {
		warn0("RAND_bytes failed");
		goto err1;
	}
	out = key;
	outlen = KEYLEN;

	/* Never overwrite: O_EXCL also refuses a symbolic link. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		if (errno == EEXIST)
			warn0("%s already exists; not overwriting it", path);
		else
			warnp("cannot create %s", path);
		goto err1;
	}
	/* The umask may have narrowed the mode; keep it exactly 0600. */
	if (fchmod(fd, 0600) == -1) {
		warnp("cannot set the mode of %s", path);
		goto err2;
	}

	if (pass_method != NULL) {
		if (keyfile_params_pick(target_time, target_memory, &pr))
			goto err2;
		if (keyfile_passphrase_read(pass_method, 1, 0, &pass,
		    &passlen))
			goto err2;
		err = keyfile_scrypt_encrypt(key, KEYLEN,
		    (const uint8_t *)pass, passlen, &pr, &enc, &enclen);
		keyfile_secmem_free(pass);
		if (err != KEYFILE_OK) {
			warn0("cannot encrypt the key: %s",
			    keyfile_strerror(err));
			goto err2;
		}
		out = enc;
		outlen = enclen;
	}
	if (sock_write_all(fd, out, outlen) || fsync(fd) == -1) {
		warnp("cannot write %s", path);
		goto err3;
	}
	if (close(fd) == -1) {
		warnp("cannot write %s", path);
		fd = -1;
		goto err3;
	}
	if (enc != NULL) {
		if (keyfile_params_time(&pr, &t))
			t = NAN;
		fprintf(stderr, "spiped-keygen: %s: scrypt N = 2^%d, r = %u, "
		    "p = %u (%s, about %.2f s to decrypt)\n", path, pr.logN,
		    pr.r, pr.p, keyfile_size_format(keyfile_params_memory(&pr),
		    mem, sizeof(mem)), t);
		free(enc);
	}
	keyfile_secmem_free(key);
	return (0);

err3:
	if (enc != NULL) {
		OPENSSL_cleanse(enc, enclen);
		free(enc);
	}
err2:
	if (fd != -1)
		close(fd);
	/* Leave nothing half-written behind. */
	unlink(path);
err1:
	keyfile_secmem_free(key);
	return (1);
}

/**
 * keygen_check(path, opts):
 * Load the key file ${path} as every key-taking program does
 * (keyfile_load with ${opts}: decrypting it if it is encrypted) and print
 * its fingerprint, the hex SHA256 of the protocol key K (not K itself),
 * on standard output: two files with the same fingerprint make the same
 * pipe key.  Returns the exit status: 0, or 1 (error printed).
 */
int
keygen_check(const char *path, const struct keyfile_opts *opts)
{
	uint8_t K[32], fp[32];
	int i;

	if (keyfile_load(path, opts, K))
		return (1);
	SHA256(K, sizeof(K), fp);
	OPENSSL_cleanse(K, sizeof(K));
	printf("%s: key loaded; fingerprint ", path);
	for (i = 0; i < 32; i++)
		printf("%02x", fp[i]);
	printf("\n");
	return (0);
}
