/*
 * Unit tests of lib/keyfile: the scrypt format against the known-answer
 * vector, every error path of the loader (with its message), options,
 * passphrase sources, parameter choice and locked memory.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "keyfile/keyfile.h"
#include "unit.h"

/*
 * Known-answer vector: Debian's `scrypt enc --logN 10 -r 8 -p 1` of the
 * 32 bytes 00 01 .. 1f under the passphrase "correct horse battery
 * staple".
 */
static const char kat_hex[] =
    "736372797074000a0000000800000001037374cae6a9734f6d36a9997c61053d"
    "223c3aafae7a0f663b749d2bdd3544a558be844914b23889033801342cd0923b"
    "ba68122e44ff9659bc80fff0c624b2edc8c3dfb40b272490288f80823deaf3e8"
    "d9a57b0865a2a9fcdd5724ed4b608186edec4383ab1ab3a80a10c547953b42fa"
    "2145ec920f28414518f0017c1fdd50da9c633deac919d1ca1a2de9d625d30e28";
static const char kat_pass[] = "correct horse battery staple";
#define KAT_LEN 160

static uint8_t kat[KAT_LEN];
static uint8_t kat_plain[32];
static char dir[] = "/tmp/test_keyfile.XXXXXX";
static char errbuf[4096];

static void
kat_init(void)
{
	size_t i;
	unsigned int b;

	for (i = 0; i < KAT_LEN; i++) {
		sscanf(&kat_hex[2 * i], "%2x", &b);
		kat[i] = (uint8_t)b;
	}
	for (i = 0; i < 32; i++)
		kat_plain[i] = (uint8_t)i;
}

/* Write ${len} bytes to a new file ${name} in the test folder. */
static const char *
put_file(const char *name, const void *buf, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_FATAL(fwrite(buf, 1, len, f) == len);
	fclose(f);
	return (path);
}

/* Capture standard error in errbuf between these two calls. */
static int saved_stderr = -1;
static char errpath[256];

static void
capture_begin(void)
{
	int fd;

	fflush(stderr);
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd != -1);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

static const char *
capture_end(void)
{
	FILE *f;
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	f = fopen(errpath, "r");
	CU_ASSERT_FATAL(f != NULL);
	n = fread(errbuf, 1, sizeof(errbuf) - 1, f);
	errbuf[n] = '\0';
	fclose(f);
	return (errbuf);
}

/* keyfile_load of ${path} with ${opts}; errors captured into errbuf. */
static int
load(const char *path, const struct keyfile_opts *opts, uint8_t K[32])
{
	int rc;

	capture_begin();
	rc = keyfile_load(path, opts, K);
	capture_end();
	return (rc);
}

static const struct keyfile_opts env_opts = { "env:TEST_KEYFILE_PASS", 0, 0 };

static void
test_kat_decrypt(void)
{
	uint8_t *out;
	size_t outlen;

	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(kat, KAT_LEN,
	    (const uint8_t *)kat_pass, strlen(kat_pass), 0, 0, &out, &outlen),
	    KEYFILE_OK);
	CU_ASSERT_EQUAL(outlen, 32);
	CU_ASSERT(memcmp(out, kat_plain, 32) == 0);
	keyfile_secmem_free(out);
}

static void
test_kat_encrypt(void)
{
	struct keyfile_params pr = { 10, 8, 1 };
	uint8_t *out;
	size_t outlen;

	CU_ASSERT_EQUAL(keyfile_scrypt_encrypt_salt(kat_plain, 32,
	    (const uint8_t *)kat_pass, strlen(kat_pass), &pr, &kat[16], &out,
	    &outlen), KEYFILE_OK);
	CU_ASSERT_EQUAL(outlen, KAT_LEN);
	CU_ASSERT(memcmp(out, kat, KAT_LEN) == 0);
	free(out);
}

static void
test_parse(void)
{
	struct keyfile_params pr;
	uint8_t b[KAT_LEN];

	CU_ASSERT_EQUAL(keyfile_scrypt_parse(kat, KAT_LEN, &pr), KEYFILE_OK);
	CU_ASSERT_EQUAL(pr.logN, 10);
	CU_ASSERT_EQUAL(pr.r, 8);
	CU_ASSERT_EQUAL(pr.p, 1);
	CU_ASSERT(keyfile_scrypt_detect(kat, KAT_LEN));
	CU_ASSERT(!keyfile_scrypt_detect(kat, 5));
	CU_ASSERT(!keyfile_scrypt_detect(kat_plain, 32));
	CU_ASSERT_EQUAL(keyfile_scrypt_parse(kat_plain, 32, NULL),
	    KEYFILE_ENOTSCRYPT);
	CU_ASSERT_EQUAL(keyfile_scrypt_parse(kat, 6, NULL), KEYFILE_ETRUNC);
	CU_ASSERT_EQUAL(keyfile_scrypt_parse(kat, 127, NULL), KEYFILE_ETRUNC);
	memcpy(b, kat, KAT_LEN);
	b[6] = 1;
	CU_ASSERT_EQUAL(keyfile_scrypt_parse(b, KAT_LEN, NULL),
	    KEYFILE_EVERSION);
	memcpy(b, kat, KAT_LEN);
	b[20] ^= 1;		/* salt */
	CU_ASSERT_EQUAL(keyfile_scrypt_parse(b, KAT_LEN, NULL),
	    KEYFILE_ECHECKSUM);
	memcpy(b, kat, KAT_LEN);
	b[50] ^= 1;		/* the checksum itself */
	CU_ASSERT_EQUAL(keyfile_scrypt_parse(b, KAT_LEN, NULL),
	    KEYFILE_ECHECKSUM);
}

/* A header with parameters out of range but a valid checksum. */
static void
test_bad_params(void)
{
	uint8_t b[KAT_LEN], sum[32];
	int i;

	for (i = 0; i < 3; i++) {
		memcpy(b, kat, KAT_LEN);
		if (i == 0)
			b[7] = 0;			/* logN = 0 */
		else if (i == 1)
			memset(&b[8], 0, 4);		/* r = 0 */
		else
			memset(&b[8], 0x40, 8);		/* r * p huge */
		SHA256(b, 48, sum);
		memcpy(&b[48], sum, 16);
		CU_ASSERT_EQUAL(keyfile_scrypt_parse(b, KAT_LEN, NULL),
		    KEYFILE_EPARAMS);
	}
}

static void
test_decrypt_errors(void)
{
	uint8_t b[KAT_LEN], *out;
	size_t outlen;
	const uint8_t *pw = (const uint8_t *)kat_pass;
	size_t pwlen = strlen(kat_pass);

	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(kat, KAT_LEN,
	    (const uint8_t *)"wrong", 5, 0, 0, &out, &outlen), KEYFILE_EPASS);
	memcpy(b, kat, KAT_LEN);
	b[100] ^= 0x80;		/* body */
	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(b, KAT_LEN, pw, pwlen, 0, 0,
	    &out, &outlen), KEYFILE_EBODY);
	memcpy(b, kat, KAT_LEN);
	b[KAT_LEN - 1] ^= 1;	/* final MAC */
	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(b, KAT_LEN, pw, pwlen, 0, 0,
	    &out, &outlen), KEYFILE_EBODY);
	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(kat, KAT_LEN - 1, pw, pwlen, 0,
	    0, &out, &outlen), KEYFILE_EBODY);
	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(kat, 130, pw, pwlen, 0, 0,
	    &out, &outlen), KEYFILE_EBODY);
	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(kat, 100, pw, pwlen, 0, 0,
	    &out, &outlen), KEYFILE_ETRUNC);
	memcpy(b, kat, KAT_LEN);
	b[70] ^= 1;		/* header MAC: indistinguishable from a wrong pass */
	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(b, KAT_LEN, pw, pwlen, 0, 0,
	    &out, &outlen), KEYFILE_EPASS);
	/* The KAT needs 1 MiB. */
	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(kat, KAT_LEN, pw, pwlen,
	    (1 << 20) - 1, 0, &out, &outlen), KEYFILE_EMEMLIMIT);
	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(kat, KAT_LEN, pw, pwlen,
	    1 << 20, 1e-9, &out, &outlen), KEYFILE_ETIMELIMIT);
}

static void
test_roundtrip(void)
{
	struct keyfile_params pr = { 4, 1, 2 };
	uint8_t *enc, *dec;
	size_t enclen, declen;
	uint8_t data[1000];
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	CU_ASSERT_EQUAL(keyfile_scrypt_encrypt(data, sizeof(data),
	    (const uint8_t *)"", 0, &pr, &enc, &enclen), KEYFILE_OK);
	CU_ASSERT_EQUAL(enclen, sizeof(data) + KEYFILE_SCRYPT_OVERHEAD);
	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(enc, enclen,
	    (const uint8_t *)"", 0, 0, 0, &dec, &declen), KEYFILE_OK);
	CU_ASSERT_EQUAL(declen, sizeof(data));
	CU_ASSERT(memcmp(dec, data, sizeof(data)) == 0);
	keyfile_secmem_free(dec);
	free(enc);

	/* Empty plaintext. */
	CU_ASSERT_EQUAL(keyfile_scrypt_encrypt(data, 0,
	    (const uint8_t *)"x", 1, &pr, &enc, &enclen), KEYFILE_OK);
	CU_ASSERT_EQUAL(enclen, KEYFILE_SCRYPT_OVERHEAD);
	CU_ASSERT_EQUAL(keyfile_scrypt_decrypt(enc, enclen,
	    (const uint8_t *)"x", 1, 0, 0, &dec, &declen), KEYFILE_OK);
	CU_ASSERT_EQUAL(declen, 0);
	keyfile_secmem_free(dec);
	free(enc);

	pr.r = 0;
	CU_ASSERT_EQUAL(keyfile_scrypt_encrypt(data, 1,
	    (const uint8_t *)"x", 1, &pr, &enc, &enclen), KEYFILE_EPARAMS);
}

static void
test_load_plain(void)
{
	uint8_t K[32], want[32], buf[100];
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	p = put_file("plain", buf, sizeof(buf));
	CU_ASSERT_EQUAL(load(p, NULL, K), 0);
	SHA256(buf, sizeof(buf), want);
	CU_ASSERT(memcmp(K, want, 32) == 0);
	CU_ASSERT_STRING_EQUAL(errbuf, "");
}

static void
test_load_missing(void)
{
	uint8_t K[32];
	char path[256];

	snprintf(path, sizeof(path), "%s/nonexistent", dir);
	CU_ASSERT_EQUAL(load(path, NULL, K), -1);
	CU_ASSERT(strstr(errbuf, "cannot open key file") != NULL);
	CU_ASSERT(strstr(errbuf, "No such file") != NULL);
	/* A directory opens but cannot be read. */
	CU_ASSERT_EQUAL(load(dir, NULL, K), -1);
	CU_ASSERT(strstr(errbuf, "cannot read key file") != NULL);
}

static void
test_load_empty(void)
{
	uint8_t K[32];
	const char *p;

	p = put_file("empty", "", 0);
	CU_ASSERT_EQUAL(load(p, NULL, K), -1);
	CU_ASSERT(strstr(errbuf, "is empty") != NULL);
}

static void
test_load_short(void)
{
	uint8_t K[32], want[32];
	const char *p;

	p = put_file("short", "0123456789", 10);
	CU_ASSERT_EQUAL(load(p, NULL, K), 0);
	CU_ASSERT(strstr(errbuf, "warning") != NULL);
	CU_ASSERT(strstr(errbuf, "only 10 bytes") != NULL);
	SHA256((const uint8_t *)"0123456789", 10, want);
	CU_ASSERT(memcmp(K, want, 32) == 0);
}

static void
test_load_kat(void)
{
	uint8_t K[32], want[32];
	const char *p;

	setenv("TEST_KEYFILE_PASS", kat_pass, 1);
	p = put_file("kat", kat, KAT_LEN);
	CU_ASSERT_EQUAL(load(p, &env_opts, K), 0);
	SHA256(kat_plain, 32, want);
	CU_ASSERT(memcmp(K, want, 32) == 0);
	CU_ASSERT_STRING_EQUAL(errbuf, "");
}

/* Each failure of an encrypted file gets its own message. */
static void
test_load_errors(void)
{
	struct keyfile_opts o = env_opts;
	uint8_t K[32], b[KAT_LEN];
	const char *p;

	setenv("TEST_KEYFILE_PASS", "not it", 1);
	p = put_file("kat", kat, KAT_LEN);
	CU_ASSERT_EQUAL(load(p, &o, K), -1);
	CU_ASSERT(strstr(errbuf, "wrong passphrase") != NULL);

	setenv("TEST_KEYFILE_PASS", kat_pass, 1);
	memcpy(b, kat, KAT_LEN);
	b[30] ^= 4;
	p = put_file("hdr", b, KAT_LEN);
	CU_ASSERT_EQUAL(load(p, &o, K), -1);
	CU_ASSERT(strstr(errbuf, "header checksum") != NULL);

	memcpy(b, kat, KAT_LEN);
	b[120] ^= 4;
	p = put_file("body", b, KAT_LEN);
	CU_ASSERT_EQUAL(load(p, &o, K), -1);
	CU_ASSERT(strstr(errbuf, "corrupted or truncated encrypted data") !=
	    NULL);

	p = put_file("cut", kat, KAT_LEN - 10);
	CU_ASSERT_EQUAL(load(p, &o, K), -1);
	CU_ASSERT(strstr(errbuf, "corrupted or truncated encrypted data") !=
	    NULL);

	p = put_file("stub", kat, 64);
	CU_ASSERT_EQUAL(load(p, &o, K), -1);
	CU_ASSERT(strstr(errbuf, "truncated: too short") != NULL);

	o.max_memory = 512 * 1024;
	p = put_file("kat", kat, KAT_LEN);
	CU_ASSERT_EQUAL(load(p, &o, K), -1);
	CU_ASSERT(strstr(errbuf, "needs 1 MiB of memory") != NULL);
	CU_ASSERT(strstr(errbuf, "limit of 512 KiB") != NULL);
	CU_ASSERT(strstr(errbuf, "--max-memory") != NULL);

	o.max_memory = 0;
	o.max_time = 1e-6;
	CU_ASSERT_EQUAL(load(p, &o, K), -1);
	CU_ASSERT(strstr(errbuf, "would take about") != NULL);
	CU_ASSERT(strstr(errbuf, "--max-time") != NULL);

	o.max_time = 0;
	unsetenv("TEST_KEYFILE_PASS");
	CU_ASSERT_EQUAL(load(p, &o, K), -1);
	CU_ASSERT(strstr(errbuf, "TEST_KEYFILE_PASS is not set") != NULL);

	/* The decrypted contents are checked as a plain file would be. */
	{
		struct keyfile_params pr = { 2, 1, 1 };
		uint8_t *enc;
		size_t enclen;

		setenv("TEST_KEYFILE_PASS", "pw", 1);
		CU_ASSERT_FATAL(keyfile_scrypt_encrypt(b, 0,
		    (const uint8_t *)"pw", 2, &pr, &enc, &enclen) ==
		    KEYFILE_OK);
		p = put_file("encempty", enc, enclen);
		free(enc);
		CU_ASSERT_EQUAL(load(p, &o, K), -1);
		CU_ASSERT(strstr(errbuf, "decrypts to nothing") != NULL);
		CU_ASSERT_FATAL(keyfile_scrypt_encrypt(b, 5,
		    (const uint8_t *)"pw", 2, &pr, &enc, &enclen) ==
		    KEYFILE_OK);
		p = put_file("encshort", enc, enclen);
		free(enc);
		CU_ASSERT_EQUAL(load(p, &o, K), 0);
		CU_ASSERT(strstr(errbuf, "decrypts to only 5 bytes") != NULL);
	}
}

static void
test_options(void)
{
	struct keyfile_opts o = { NULL, 0, 0 };

	capture_begin();
	CU_ASSERT_EQUAL(keyfile_option(&o, "passphrase", "env:X"), 1);
	CU_ASSERT_STRING_EQUAL(o.passphrase, "env:X");
	CU_ASSERT_EQUAL(keyfile_option(&o, "passphrase", "file:/x"), 1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "passphrase", "dev:tty-once"), 1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "passphrase", "dev:stdin-once"),
	    1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "passphrase", "dev:tty-stdin"), 1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "passphrase", "env:"), -1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "passphrase", "tty"), -1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "max-memory", "512M"), 1);
	CU_ASSERT_EQUAL(o.max_memory, 512u << 20);
	CU_ASSERT_EQUAL(keyfile_option(&o, "max-memory", "1GiB"), 1);
	CU_ASSERT_EQUAL(o.max_memory, 1u << 30);
	CU_ASSERT_EQUAL(keyfile_option(&o, "max-memory", "12345"), 1);
	CU_ASSERT_EQUAL(o.max_memory, 12345);
	CU_ASSERT_EQUAL(keyfile_option(&o, "max-memory", "0"), -1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "max-memory", "12X"), -1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "max-memory", "-1"), -1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "max-memory", "99999999999T"), -1);
	CU_ASSERT_EQUAL(o.max_memory, 12345);
	CU_ASSERT_EQUAL(keyfile_option(&o, "max-time", "2.5"), 1);
	CU_ASSERT(o.max_time == 2.5);
	CU_ASSERT_EQUAL(keyfile_option(&o, "max-time", "0"), -1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "max-time", "abc"), -1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "max-time", "nan"), -1);
	CU_ASSERT_EQUAL(keyfile_option(&o, "foo", "bar"), 0);
	capture_end();
	CU_ASSERT(strstr(errbuf, "invalid method") != NULL);
	CU_ASSERT(strstr(errbuf, "--max-memory: invalid size") != NULL);
	CU_ASSERT(strstr(errbuf, "--max-time: invalid") != NULL);
}

static void
test_passphrase_sources(void)
{
	char *pw, method[300];
	size_t len;
	const char *p;
	int rc;

	setenv("TEST_KEYFILE_PASS", "from env", 1);
	CU_ASSERT_EQUAL(keyfile_passphrase_read("env:TEST_KEYFILE_PASS", 1, 1,
	    &pw, &len), 0);
	CU_ASSERT_EQUAL(len, 8);
	CU_ASSERT_STRING_EQUAL(pw, "from env");
	keyfile_secmem_free(pw);

	p = put_file("pw", "first line\r\nsecond\n", 19);
	snprintf(method, sizeof(method), "file:%s", p);
	CU_ASSERT_EQUAL(keyfile_passphrase_read(method, 0, 0, &pw, &len), 0);
	CU_ASSERT_EQUAL(len, 10);
	CU_ASSERT_STRING_EQUAL(pw, "first line");
	keyfile_secmem_free(pw);

	p = put_file("pw2", "no newline", 10);
	snprintf(method, sizeof(method), "file:%s", p);
	CU_ASSERT_EQUAL(keyfile_passphrase_read(method, 0, 0, &pw, &len), 0);
	CU_ASSERT_STRING_EQUAL(pw, "no newline");
	keyfile_secmem_free(pw);

	capture_begin();
	p = put_file("pw3", "", 0);
	snprintf(method, sizeof(method), "file:%s", p);
	rc = keyfile_passphrase_read(method, 0, 0, &pw, &len);
	CU_ASSERT_EQUAL(rc, -1);
	snprintf(method, sizeof(method), "file:%s/none", dir);
	rc = keyfile_passphrase_read(method, 0, 0, &pw, &len);
	CU_ASSERT_EQUAL(rc, -1);
	rc = keyfile_passphrase_read("dev:stdin-once", 0, 1, &pw, &len);
	CU_ASSERT_EQUAL(rc, -1);
	rc = keyfile_passphrase_read("bogus:x", 0, 0, &pw, &len);
	CU_ASSERT_EQUAL(rc, -1);
	capture_end();
	CU_ASSERT(strstr(errbuf, "end of input") != NULL);
	CU_ASSERT(strstr(errbuf, "cannot open") != NULL);
	CU_ASSERT(strstr(errbuf, "it holds the key file") != NULL);
	CU_ASSERT(strstr(errbuf, "invalid method") != NULL);
}

static void
test_params(void)
{
	struct keyfile_params pr = { 14, 8, 1 };
	double opps, t;

	CU_ASSERT_EQUAL(keyfile_params_memory(&pr), 16u << 20);
	CU_ASSERT_EQUAL(keyfile_params_ops(&pr), 4u * 16384 * 8);
	pr.logN = 63;
	pr.r = 0x3fffffff;
	CU_ASSERT_EQUAL(keyfile_params_memory(&pr), UINT64_MAX);
	CU_ASSERT_EQUAL(keyfile_params_ops(&pr), UINT64_MAX);
	CU_ASSERT_EQUAL(keyfile_params_speed(&opps), 0);
	CU_ASSERT(opps > 1e5);

	/* Time-bound: 0.01 s, lots of memory. */
	CU_ASSERT_EQUAL(keyfile_params_pick(0.01, 1u << 30, &pr), 0);
	CU_ASSERT_EQUAL(pr.r, 8);
	CU_ASSERT_EQUAL(pr.p, 1);
	CU_ASSERT(keyfile_params_ops(&pr) <= (uint64_t)(opps * 0.01) ||
	    keyfile_params_ops(&pr) <= 32768);
	CU_ASSERT_EQUAL(keyfile_params_time(&pr, &t), 0);
	CU_ASSERT(t <= 0.011 || keyfile_params_ops(&pr) <= 32768);

	/* Memory-bound: 1 s, 2 MiB: N = 2^11 (2 MiB), p fills the time. */
	CU_ASSERT_EQUAL(keyfile_params_pick(1.0, 2u << 20, &pr), 0);
	CU_ASSERT_EQUAL(pr.logN, 11);
	CU_ASSERT(keyfile_params_memory(&pr) <= 2u << 20);
	CU_ASSERT(pr.p >= 1);
	CU_ASSERT(keyfile_params_ops(&pr) <= (uint64_t)opps);

	/* Tiny budgets still give at least 2^15 operations and 1 MiB. */
	CU_ASSERT_EQUAL(keyfile_params_pick(1e-9, 0, &pr), 0);
	CU_ASSERT(pr.logN >= 9);
	CU_ASSERT(keyfile_params_memory(&pr) <= 1u << 20);

	CU_ASSERT(keyfile_default_max_memory() <= (1u << 30));
	CU_ASSERT(keyfile_default_max_memory() > 0);
}

static void
test_sizes(void)
{
	char b[32];
	uint64_t v;

	CU_ASSERT_STRING_EQUAL(keyfile_size_format(900, b, sizeof(b)),
	    "900 bytes");
	CU_ASSERT_STRING_EQUAL(keyfile_size_format(1 << 20, b, sizeof(b)),
	    "1 MiB");
	CU_ASSERT_STRING_EQUAL(keyfile_size_format(3u << 29, b, sizeof(b)),
	    "1.5 GiB");
	CU_ASSERT_EQUAL(keyfile_size_parse("4k", &v), 0);
	CU_ASSERT_EQUAL(v, 4096);
	CU_ASSERT_EQUAL(keyfile_size_parse("2TB", &v), 0);
	CU_ASSERT_EQUAL(v, (uint64_t)2 << 40);
	CU_ASSERT_EQUAL(keyfile_size_parse("", &v), -1);
	CU_ASSERT_EQUAL(keyfile_size_parse("1.5G", &v), -1);
	CU_ASSERT_EQUAL(keyfile_size_parse("1Gx", &v), -1);
}

static void
test_secmem(void)
{
	uint8_t *p;
	size_t i;

	p = keyfile_secmem_alloc(100);
	CU_ASSERT_FATAL(p != NULL);
	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(p[i], 0);
	memset(p, 0xaa, 100);
	keyfile_secmem_free(p);
	p = keyfile_secmem_alloc(0);
	CU_ASSERT(p != NULL);
	keyfile_secmem_free(p);
	keyfile_secmem_free(NULL);
}

static void
test_setup(void)
{

	kat_init();
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
}

static void
test_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CU_ASSERT(system(cmd) == 0);
}

UNIT_MAIN("keyfile",
    { "setup", test_setup },
    { "known-answer decrypt", test_kat_decrypt },
    { "known-answer encrypt", test_kat_encrypt },
    { "header parse", test_parse },
    { "invalid parameters", test_bad_params },
    { "decrypt errors", test_decrypt_errors },
    { "round trip", test_roundtrip },
    { "load plain", test_load_plain },
    { "load missing/unreadable", test_load_missing },
    { "load empty", test_load_empty },
    { "load short", test_load_short },
    { "load known answer", test_load_kat },
    { "load errors", test_load_errors },
    { "options", test_options },
    { "passphrase sources", test_passphrase_sources },
    { "parameters", test_params },
    { "sizes", test_sizes },
    { "locked memory", test_secmem },
    { "teardown", test_teardown })
