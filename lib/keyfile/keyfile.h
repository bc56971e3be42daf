#ifndef KEYFILE_H_
#define KEYFILE_H_

/*
 * keyfile: the one key loader shared by every program that takes a key.
 *
 * A key file is either plain (any bytes; the protocol key is
 * K = SHA256(file), as in spiped) or kept encrypted under a passphrase in
 * the file format of Tarsnap's scrypt(1) utility (its layout is described
 * at the top of scryptfile.c).  An encrypted file is
 * decrypted first, and K = SHA256(decrypted bytes), so both forms give the
 * same K and interoperate with any spiped that was given the plain file.
 *
 * Pieces, each usable on its own:
 *   - keyfile_load / keyfile_option: what programs call.
 *   - keyfile_scrypt_*: parse, decrypt and encrypt the scrypt format in
 *     memory (no file or terminal access; the fuzz target uses these).
 *   - keyfile_params_*: scrypt cost parameters: measure this machine's
 *     scrypt speed, estimate time and memory, pick N, r, p for a target.
 *   - keyfile_passphrase_read: the passphrase sources of scrypt(1)'s
 *     --passphrase method:arg.
 *   - keyfile_secmem_*: locked (mlock, best effort), wiped-on-free memory
 *     for keys and passphrases.
 *
 * Errors are reported through lib/log (warn0: "progname: message"),
 * where they are first seen, unless a function says otherwise.
 */

#include <stddef.h>
#include <stdint.h>

/* Options every key-taking program accepts; all-zero means defaults. */
struct keyfile_opts {
	/* "method:arg" as scrypt(1)'s --passphrase; NULL = dev:tty-stdin. */
	const char *passphrase;
	/* Bytes; 0 = default: half of RAM, at most 1 GiB. */
	uint64_t max_memory;
	/* Seconds; 0 = default 5. */
	double max_time;
};

/* Default --max-time, seconds. */
#define KEYFILE_DEFAULT_MAX_TIME	5.0

/**
 * keyfile_load(path, opts, K):
 * Read the key file ${path} ("-" = standard input) and set ${K} to the
 * SHA256 of its bytes, decrypting a file in the scrypt format first with a
 * passphrase obtained as ${opts}->passphrase says (${opts} NULL = all
 * defaults).  An empty file (or empty decrypted contents) is refused; one
 * shorter than 32 bytes gets a warning and is used.  Every intermediate
 * copy of key material is locked and wiped.  Returns 0 on success, or -1
 * after printing a specific error: file missing or unreadable, empty,
 * truncated/corrupted header, wrong passphrase, corrupted or truncated
 * body, parameters over the memory or time limit (naming the option that
 * raises it), or passphrase unavailable.  ${K} is wiped on failure.
 */
int keyfile_load(const char *, const struct keyfile_opts *, uint8_t[32]);

/**
 * keyfile_option(opts, longopt_name, arg):
 * If ${longopt_name} is "passphrase" (${arg} "method:arg", checked and
 * kept by pointer: it must outlive ${opts}), "max-memory" (${arg} a size
 * in bytes with an optional K, M, G or T suffix, powers of 1024) or
 * "max-time" (${arg} positive seconds), store ${arg} in ${opts} and return
 * 1.  Return 0 if the name is none of these (nothing changed), or -1 after
 * printing an error if ${arg} is invalid.
 */
int keyfile_option(struct keyfile_opts *, const char *, const char *);

/**
 * keyfile_opts_usage:
 * The lines programs add to their --help for the options above.
 */
extern const char keyfile_opts_usage[];

/* ------------------------------------------------------------------ */
/* The scrypt file format, in memory.                                  */

/* Header: magic(6) version(1) logN(1) r(4) p(4) salt(32) sum(16) mac(32). */
#define KEYFILE_SCRYPT_HDRLEN		96
/* Header plus the final HMAC: the size of an encrypted empty file. */
#define KEYFILE_SCRYPT_OVERHEAD		128

/* scrypt cost parameters: N = 2^logN. */
struct keyfile_params {
	int logN;		/* 1..63 */
	uint32_t r;		/* >= 1 */
	uint32_t p;		/* >= 1, r * p < 2^30 */
};

/* Outcomes of the keyfile_scrypt_* functions (they print nothing). */
enum keyfile_err {
	KEYFILE_OK = 0,
	KEYFILE_ENOTSCRYPT,	/* does not start with "scrypt" */
	KEYFILE_EVERSION,	/* format version other than 0 */
	KEYFILE_ETRUNC,		/* shorter than header + final HMAC */
	KEYFILE_EPARAMS,	/* logN, r or p out of range */
	KEYFILE_ECHECKSUM,	/* header checksum: corrupted header */
	KEYFILE_EPASS,		/* header HMAC: wrong passphrase */
	KEYFILE_EBODY,		/* final HMAC: corrupted or truncated body */
	KEYFILE_EMEMLIMIT,	/* needs more memory than allowed */
	KEYFILE_ETIMELIMIT,	/* would take longer than allowed */
	KEYFILE_ENOMEM,		/* out of memory */
	KEYFILE_ECRYPTO		/* scrypt or OpenSSL failed */
};

/**
 * keyfile_strerror(err):
 * A static sentence describing ${err}, for messages.
 */
const char *keyfile_strerror(enum keyfile_err);

/**
 * keyfile_scrypt_detect(buf, len):
 * Return 1 if the ${len} bytes at ${buf} start like a scrypt-format file
 * (the 6 bytes "scrypt"; any shorter prefix of them does not count),
 * else 0.  Plain key files are random bytes, so a false match has
 * probability 2^-48.
 */
int keyfile_scrypt_detect(const uint8_t *, size_t);

/**
 * keyfile_scrypt_parse(buf, len, params):
 * Check the header of the scrypt-format file held in ${buf} (${len}
 * bytes): magic, version, length (at least KEYFILE_SCRYPT_OVERHEAD),
 * header checksum and parameter ranges, in that order (a damaged header
 * is reported as damage, not as odd parameters); store the parameters in
 * ${params} (if non-NULL) as soon as they are read.  No scrypt is
 * computed.  Returns KEYFILE_OK or the first failure.
 */
enum keyfile_err keyfile_scrypt_parse(const uint8_t *, size_t,
    struct keyfile_params *);

/**
 * keyfile_scrypt_check_limits(params, max_memory, max_time):
 * Return KEYFILE_EMEMLIMIT if ${params} needs more than ${max_memory}
 * bytes, KEYFILE_ETIMELIMIT if its estimated time on this machine
 * (keyfile_params_time) exceeds ${max_time} seconds, else KEYFILE_OK
 * (KEYFILE_ECRYPTO if the speed measurement failed).  A limit of 0 is not
 * checked.
 */
enum keyfile_err keyfile_scrypt_check_limits(const struct keyfile_params *,
    uint64_t, double);

/**
 * keyfile_scrypt_decrypt(buf, len, pass, passlen, max_memory, max_time,
 *     out, outlen):
 * Decrypt the scrypt-format file in ${buf} (${len} bytes) with the
 * passphrase ${pass} (${passlen} bytes): parse it, enforce the limits as
 * keyfile_scrypt_check_limits does, derive the keys, check the header
 * HMAC, then the final HMAC, then decrypt.  On KEYFILE_OK, *${out} is a
 * keyfile_secmem_alloc'd buffer (the caller frees it with
 * keyfile_secmem_free) of *${outlen} bytes (possibly 0; *${out} is still
 * a valid buffer).  Derived keys are wiped before returning.
 */
enum keyfile_err keyfile_scrypt_decrypt(const uint8_t *, size_t,
    const uint8_t *, size_t, uint64_t, double, uint8_t **, size_t *);

/**
 * keyfile_scrypt_encrypt(in, inlen, pass, passlen, params, out, outlen):
 * Encrypt the ${inlen} bytes at ${in} under the passphrase ${pass}
 * (${passlen} bytes) with the cost ${params} and a fresh random salt,
 * in the format scrypt(1) reads.  On KEYFILE_OK, *${out} is a malloc'd
 * buffer (the caller frees it) of *${outlen} = ${inlen} +
 * KEYFILE_SCRYPT_OVERHEAD bytes.
 */
enum keyfile_err keyfile_scrypt_encrypt(const uint8_t *, size_t,
    const uint8_t *, size_t, const struct keyfile_params *, uint8_t **,
    size_t *);

/**
 * keyfile_scrypt_encrypt_salt(in, inlen, pass, passlen, params, salt,
 *     out, outlen):
 * As keyfile_scrypt_encrypt, but with the given 32-byte ${salt}
 * (deterministic; for tests).
 */
enum keyfile_err keyfile_scrypt_encrypt_salt(const uint8_t *, size_t,
    const uint8_t *, size_t, const struct keyfile_params *,
    const uint8_t[32], uint8_t **, size_t *);

/* ------------------------------------------------------------------ */
/* scrypt cost parameters.                                             */

/**
 * keyfile_params_memory(params):
 * The memory scrypt needs for ${params}: 128 * r * N bytes (saturating at
 * UINT64_MAX).
 */
uint64_t keyfile_params_memory(const struct keyfile_params *);

/**
 * keyfile_params_ops(params):
 * The work of ${params} in salsa20/8 block operations, 4 * N * r * p (as
 * scrypt(1) counts it; saturating at UINT64_MAX).
 */
uint64_t keyfile_params_ops(const struct keyfile_params *);

/**
 * keyfile_params_speed(opps):
 * Set *${opps} to this machine's scrypt speed in salsa20/8 block
 * operations per second, measured (about 50 ms of scrypt) on the first
 * call and remembered afterwards.  Returns 0, or -1 (error printed) if
 * scrypt fails.  Not thread-safe on the first call.
 */
int keyfile_params_speed(double *);

/**
 * keyfile_params_time(params, seconds):
 * Set *${seconds} to the estimated time scrypt takes for ${params} on
 * this machine.  Returns 0, or -1 as keyfile_params_speed.
 */
int keyfile_params_time(const struct keyfile_params *, double *);

/**
 * keyfile_params_pick(target_time, target_memory, params):
 * Choose ${params} as scrypt(1) enc does for -t ${target_time} (seconds)
 * and -M ${target_memory} (bytes): r = 8; if the time budget is the
 * tighter constraint, p = 1 and the largest N the time allows; otherwise
 * the largest N the memory allows and p raised to use the time.  At least
 * 1 MiB of memory and 2^15 operations are always allowed.  Returns 0, or
 * -1 as keyfile_params_speed.
 */
int keyfile_params_pick(double, uint64_t, struct keyfile_params *);

/**
 * keyfile_default_max_memory(void):
 * The default --max-memory: half of the physical memory, at most 1 GiB
 * (1 GiB if the memory size is unknown).
 */
uint64_t keyfile_default_max_memory(void);

/**
 * keyfile_size_format(bytes, buf, buflen):
 * Write ${bytes} in human form ("512 MiB", "1.5 GiB", "900 bytes") into
 * ${buf}; return ${buf}.
 */
char *keyfile_size_format(uint64_t, char *, size_t);

/**
 * keyfile_size_parse(s, bytes):
 * Parse ${s}, a decimal number of bytes with an optional suffix K, M, G
 * or T (powers of 1024, optionally followed by "iB" or "B"), into
 * *${bytes}.  Returns 0, or -1 (nothing printed) if ${s} is not such a
 * size or overflows.
 */
int keyfile_size_parse(const char *, uint64_t *);

/* ------------------------------------------------------------------ */
/* Passphrases.                                                        */

/**
 * keyfile_passphrase_check(method):
 * Return 0 if ${method} is a valid "method:arg" (dev:tty-stdin,
 * dev:stdin-once, dev:tty-once, env:VAR, file:PATH), else -1 after
 * printing an error.
 */
int keyfile_passphrase_check(const char *);

/**
 * keyfile_passphrase_read(method, confirm, stdin_busy, pass, passlen):
 * Read a passphrase as ${method} says (NULL = "dev:tty-stdin"):
 *   dev:tty-stdin  from the terminal (prompting, no echo), or from
 *                  standard input if there is no terminal;
 *   dev:stdin-once from standard input, once;
 *   dev:tty-once   from the terminal, once;
 *   env:VAR        the value of the environment variable VAR;
 *   file:PATH      the first line of the file PATH.
 * A line read ends at a newline, which is not part of the passphrase (nor
 * is a carriage return just before it); at most 4096 bytes.  If
 * ${confirm} is non-zero (encrypting), dev:tty-stdin asks twice and
 * refuses a mismatch.  If ${stdin_busy} is non-zero (standard input holds
 * the key file), a method that would read standard input fails.  On
 * success *${pass} is a keyfile_secmem_alloc'd NUL-terminated string of
 * *${passlen} bytes, which the caller frees with keyfile_secmem_free.
 * Returns 0, or -1 after printing an error (unset variable, unreadable
 * file, no terminal, end of input, mismatch).
 */
int keyfile_passphrase_read(const char *, int, int, char **, size_t *);

/* ------------------------------------------------------------------ */
/* Locked memory for secrets.                                          */

/**
 * keyfile_secmem_alloc(len):
 * Return ${len} zeroed bytes (len may be 0) in their own pages, locked in
 * RAM (mlock; best effort, silently skipped where not permitted) and
 * excluded from core dumps, or NULL on failure (error printed).
 */
void *keyfile_secmem_alloc(size_t);

/**
 * keyfile_secmem_free(p):
 * Wipe (OPENSSL_cleanse), unlock and release memory from
 * keyfile_secmem_alloc.  keyfile_secmem_free(NULL) does nothing.
 */
void keyfile_secmem_free(void *);

#endif /* !KEYFILE_H_ */
