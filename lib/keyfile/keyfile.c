/*
 * The key loader: read a key file, decrypt it if it is in the scrypt
 * format, and hash it into the protocol key K.
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
#include <openssl/sha.h>

#include "keyfile.h"
#include "log/log.h"
#include "keyfile_priv.h"

/* Refuse key files larger than this: they are surely not keys. */
#define KEYFILE_MAXSIZE	((size_t)64 * 1024 * 1024)

const char keyfile_opts_usage[] =
    "  --passphrase METHOD:ARG  where the passphrase of a scrypt-encrypted\n"
    "                           key file comes from: dev:tty-stdin (default),\n"
    "                           dev:stdin-once, dev:tty-once, env:VAR,\n"
    "                           file:PATH\n"
    "  --max-memory SIZE        refuse key files whose scrypt needs more\n"
    "                           memory (default: half of RAM, at most 1G)\n"
    "  --max-time SECONDS       refuse key files whose scrypt would take\n"
    "                           longer (default 5)\n";

/*
 * Read all of ${fd} (named ${name} in messages) into locked memory; set
 * *${buf} and *${len}.  Returns 0 or -1 (error printed).
 */
static int
read_all(int fd, const char *name, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t cap, n;
	uint8_t *b, *nb;
	ssize_t r;

	cap = 4096;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size + 1 > (off_t)cap && st.st_size < (off_t)KEYFILE_MAXSIZE)
		cap = (size_t)st.st_size + 1;
	if ((b = keyfile_secmem_alloc(cap)) == NULL)
		return (-1);
	n = 0;
	for (;;) {
		if (n == cap) {
			if (cap >= KEYFILE_MAXSIZE) {
				keyfile_warnx("key file %s: larger than %zu "
				    "bytes; not a key file", name,
				    KEYFILE_MAXSIZE);
				goto err1;
			}
			if ((nb = keyfile_secmem_alloc(cap * 2)) == NULL)
				goto err1;
			memcpy(nb, b, n);
			keyfile_secmem_free(b);
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + n, cap - n);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			keyfile_warnx("cannot read key file %s: %s", name,
			    strerror(errno));
			goto err1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*buf = b;
	*len = n;
	return (0);

err1:
	keyfile_secmem_free(b);
	return (-1);
}

/* Print a message for ${err} about the scrypt-format key file ${name}. */
static void
report(const char *name, enum keyfile_err err,
    const struct keyfile_params *params, uint64_t max_memory,
    double max_time)
{
	char need[32], lim[32];
	double t;

	switch (err) {
	case KEYFILE_EMEMLIMIT:
		keyfile_warnx("key file %s: decrypting it needs %s of memory "
		    "(scrypt N=2^%d, r=%u), over the limit of %s; "
		    "raise the limit with --max-memory", name,
		    keyfile_size_format(keyfile_params_memory(params), need,
		    sizeof(need)), params->logN, params->r,
		    keyfile_size_format(max_memory, lim, sizeof(lim)));
		break;
	case KEYFILE_ETIMELIMIT:
		if (keyfile_params_time(params, &t))
			t = NAN;
		keyfile_warnx("key file %s: decrypting it would take about "
		    "%.3g s (scrypt N=2^%d, r=%u, p=%u), over the limit of "
		    "%g s; raise the limit with --max-time", name, t,
		    params->logN, params->r, params->p, max_time);
		break;
	default:
		keyfile_warnx("key file %s: %s", name, keyfile_strerror(err));
		break;
	}
}

/*
 * Hash the ${len} key bytes at ${buf} into ${K}, refusing empty keys and
 * warning about short ones.  ${what} names the file in messages;
 * ${decrypted} says the bytes came out of an encrypted file.
 */
static int
hash_key(const char *what, int decrypted, const uint8_t *buf, size_t len,
    uint8_t K[32])
{

	if (len == 0) {
		keyfile_warnx("key file %s %s; refusing to use an empty key",
		    what, decrypted ? "decrypts to nothing (is empty)" :
		    "is empty");
		return (-1);
	}
	if (len < 32)
		keyfile_warnx("warning: key file %s %s only %zu bytes; "
		    "a key should have at least 32 random bytes (256 bits)",
		    what, decrypted ? "decrypts to" : "holds", len);
	if (SHA256(buf, len, K) == NULL) {
		keyfile_warnx("SHA256 failed");
		return (-1);
	}
	return (0);
}

/**
 * keyfile_load(path, opts, K):
 * Read the key file ${path} ("-" = standard input) and set ${K} to the
 * SHA256 of its bytes, decrypting a file in the scrypt format first with a
 * passphrase obtained as ${opts}->passphrase says (${opts} NULL = all
 * defaults).  An empty file (or empty decrypted contents) is refused; one
 * shorter than 32 bytes gets a warning and is used.  Every intermediate
 * copy of key material is locked and wiped.  Returns 0 on success, or -1
 * after printing a specific error.  ${K} is wiped on failure.
 */
int
keyfile_load(const char *path, const struct keyfile_opts *opts, uint8_t K[32])
{
	static const struct keyfile_opts defaults = { NULL, 0, 0 };
	struct keyfile_params params;
	enum keyfile_err err;
	const char *name;
	uint8_t *buf, *plain;
	size_t len, plainlen;
	uint64_t max_memory;
	double max_time;
	char *pass;
	size_t passlen;
	int is_stdin, fd, rc;

	if (opts == NULL)
		opts = &defaults;
	max_memory = opts->max_memory ? opts->max_memory :
	    keyfile_default_max_memory();
	max_time = opts->max_time > 0 ? opts->max_time :
	    KEYFILE_DEFAULT_MAX_TIME;
	is_stdin = (strcmp(path, "-") == 0);
	name = is_stdin ? "(standard input)" : path;

	/* Read the whole file into locked memory. */
	if (is_stdin) {
		fd = STDIN_FILENO;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		keyfile_warnx("cannot open key file %s: %s", path,
		    strerror(errno));
		goto err0;
	}
	rc = read_all(fd, name, &buf, &len);
	if (!is_stdin)
		close(fd);
	if (rc)
		goto err0;

	/* A plain key file: K is its hash. */
	if (!keyfile_scrypt_detect(buf, len)) {
		if (hash_key(name, 0, buf, len, K))
			goto err1;
		keyfile_secmem_free(buf);
		return (0);
	}

	/* Check everything we can before asking for a passphrase. */
	if ((err = keyfile_scrypt_parse(buf, len, &params)) != KEYFILE_OK ||
	    (err = keyfile_scrypt_check_limits(&params, max_memory,
	    max_time)) != KEYFILE_OK) {
		report(name, err, &params, max_memory, max_time);
		goto err1;
	}
	if (keyfile_passphrase_read(opts->passphrase, 0, is_stdin, &pass,
	    &passlen))
		goto err1;
	err = keyfile_scrypt_decrypt(buf, len, (const uint8_t *)pass, passlen,
	    max_memory, max_time, &plain, &plainlen);
	keyfile_secmem_free(pass);
	if (err != KEYFILE_OK) {
		report(name, err, &params, max_memory, max_time);
		goto err1;
	}
	rc = hash_key(name, 1, plain, plainlen, K);
	keyfile_secmem_free(plain);
	if (rc)
		goto err1;
	keyfile_secmem_free(buf);
	return (0);

err1:
	keyfile_secmem_free(buf);
err0:
	OPENSSL_cleanse(K, 32);
	return (-1);
}

/**
 * keyfile_option(opts, longopt_name, arg):
 * If ${longopt_name} is "passphrase", "max-memory" or "max-time", check
 * ${arg}, store it in ${opts} and return 1; return 0 if the name is none
 * of these, or -1 after printing an error if ${arg} is invalid.
 */
int
keyfile_option(struct keyfile_opts *opts, const char *name, const char *arg)
{
	uint64_t bytes;
	double secs;
	char *end;

	if (strcmp(name, "passphrase") == 0) {
		if (arg == NULL || keyfile_passphrase_check(arg))
			return (-1);
		opts->passphrase = arg;
		return (1);
	} else if (strcmp(name, "max-memory") == 0) {
		if (arg == NULL || keyfile_size_parse(arg, &bytes) ||
		    bytes == 0) {
			keyfile_warnx("--max-memory: invalid size \"%s\" "
			    "(bytes, or a number with K, M, G or T)",
			    arg ? arg : "");
			return (-1);
		}
		opts->max_memory = bytes;
		return (1);
	} else if (strcmp(name, "max-time") == 0) {
		errno = 0;
		secs = (arg != NULL) ? strtod(arg, &end) : 0;
		if (arg == NULL || errno || end == arg || *end != '\0' ||
		    !isfinite(secs) || secs <= 0) {
			keyfile_warnx("--max-time: invalid number of seconds "
			    "\"%s\"", arg ? arg : "");
			return (-1);
		}
		opts->max_time = secs;
		return (1);
	}
	return (0);
}

/**
 * keyfile_default_max_memory(void):
 * The default --max-memory: half of the physical memory, at most 1 GiB
 * (1 GiB if the memory size is unknown).
 */
uint64_t
keyfile_default_max_memory(void)
{
	const uint64_t cap = (uint64_t)1 << 30;
	long pages, pagesize;
	uint64_t half;

	pages = sysconf(_SC_PHYS_PAGES);
	pagesize = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || pagesize <= 0)
		return (cap);
	half = (uint64_t)pages * (uint64_t)pagesize / 2;
	return (half < cap ? half : cap);
}

/**
 * keyfile_size_format(bytes, buf, buflen):
 * Write ${bytes} in human form into ${buf}; return ${buf}.
 */
char *
keyfile_size_format(uint64_t bytes, char *buf, size_t buflen)
{
	static const char *units[] = { "KiB", "MiB", "GiB", "TiB", "PiB",
	    "EiB" };
	double v;
	int u;

	if (bytes < 1024) {
		snprintf(buf, buflen, "%u bytes", (unsigned)bytes);
		return (buf);
	}
	v = (double)bytes / 1024;
	for (u = 0; v >= 1024 && u < 5; u++)
		v /= 1024;
	if (v == floor(v))
		snprintf(buf, buflen, "%.0f %s", v, units[u]);
	else
		snprintf(buf, buflen, "%.1f %s", v, units[u]);
	return (buf);
}

/**
 * keyfile_size_parse(s, bytes):
 * Parse ${s}, a decimal number of bytes with an optional suffix K, M, G
 * or T (powers of 1024, optionally followed by "iB" or "B"), into
 * *${bytes}.  Returns 0, or -1 (nothing printed) if ${s} is not such a
 * size or overflows.
 */
int
keyfile_size_parse(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	char *end;
	int shift;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return (-1);
	switch (*end) {
	case '\0': shift = 0; break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return (-1);
	}
	if (shift != 0) {
		if (strcmp(end, "iB") == 0)
			end += 2;
		else if (strcmp(end, "B") == 0)
			end += 1;
	}
	if (*end != '\0')
		return (-1);
	if (shift != 0 && v > (UINT64_MAX >> shift))
		return (-1);
	*bytes = (uint64_t)v << shift;
	return (0);
}
