/*
 * Unit tests for the tools' modules: kvlds-cli's encodings (enc) and
 * command parser (cmd), and the dump file format (kvlds-dump's dumpfile):
 * round trips, and every kind of corruption refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "kvlds/kvlds-cli/cmd.h"
#include "kvlds/kvlds-cli/enc.h"
#include "kvlds/kvlds-dump/dumpfile.h"

#include "unit.h"

/* Decode ${s} in ${mode}; return the length, or -1. */
static int
dec(enum enc_mode mode, const char *s, uint8_t *buf)
{
	const char *why;
	size_t len;

	if (enc_decode(mode, s, strlen(s), buf, 255, &len, &why))
		return (-1);
	return ((int)len);
}

/* Encode ${len} bytes in ${mode} into the NUL-terminated ${out}. */
static void
enc(enum enc_mode mode, const uint8_t *buf, size_t len, char *out)
{
	struct evbuffer *e = evbuffer_new();
	size_t n;

	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(enc_encode(mode, e, buf, len), 0);
	n = evbuffer_get_length(e);
	evbuffer_remove(e, out, n);
	out[n] = '\0';
	evbuffer_free(e);
}

static void
test_enc_decode(void)
{
	uint8_t b[255];

	CU_ASSERT_EQUAL(dec(ENC_TEXT, "a b\\x", b), 5);
	CU_ASSERT_EQUAL(memcmp(b, "a b\\x", 5), 0);
	CU_ASSERT_EQUAL(dec(ENC_TEXT, "", b), 0);

	CU_ASSERT_EQUAL(dec(ENC_HEX, "00fFa0", b), 3);
	CU_ASSERT_EQUAL(memcmp(b, "\x00\xff\xa0", 3), 0);
	CU_ASSERT_EQUAL(dec(ENC_HEX, "", b), 0);
	CU_ASSERT_EQUAL(dec(ENC_HEX, "abc", b), -1);
	CU_ASSERT_EQUAL(dec(ENC_HEX, "0g", b), -1);
	CU_ASSERT_EQUAL(dec(ENC_HEX, " 00", b), -1);

	CU_ASSERT_EQUAL(dec(ENC_ESCAPE, "a\\n\\t\\r\\0\\\\\\x7F\\\"\\'", b),
	    9);
	CU_ASSERT_EQUAL(memcmp(b, "a\n\t\r\0\\\x7f\"'", 9), 0);
	CU_ASSERT_EQUAL(dec(ENC_ESCAPE, "\\a\\b\\f\\v", b), 4);
	CU_ASSERT_EQUAL(memcmp(b, "\a\b\f\v", 4), 0);
	CU_ASSERT_EQUAL(dec(ENC_ESCAPE, "\\", b), -1);
	CU_ASSERT_EQUAL(dec(ENC_ESCAPE, "\\q", b), -1);
	CU_ASSERT_EQUAL(dec(ENC_ESCAPE, "\\x", b), -1);
	CU_ASSERT_EQUAL(dec(ENC_ESCAPE, "\\x4", b), -1);
	CU_ASSERT_EQUAL(dec(ENC_ESCAPE, "\\x4g", b), -1);
}

static void
test_enc_limits(void)
{
	char s[2 * 256 + 1];
	uint8_t b[255];
	size_t i;

	/* 255 bytes fit; 256 do not. */
	for (i = 0; i < 2 * 256; i++)
		s[i] = 'a';
	s[255] = '\0';
	CU_ASSERT_EQUAL(dec(ENC_TEXT, s, b), 255);
	s[255] = 'a';
	s[256] = '\0';
	CU_ASSERT_EQUAL(dec(ENC_TEXT, s, b), -1);
	memset(s, 'a', 2 * 256);
	s[2 * 255] = '\0';
	CU_ASSERT_EQUAL(dec(ENC_HEX, s, b), 255);
	s[2 * 255] = 'a';
	s[2 * 256] = '\0';
	CU_ASSERT_EQUAL(dec(ENC_HEX, s, b), -1);
}

static void
test_enc_roundtrip(void)
{
	uint8_t all[256], b[255];
	char out[4 * 256 + 1];
	size_t i;

	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;

	enc(ENC_HEX, (const uint8_t *)"\x00\xff\x10", 3, out);
	CU_ASSERT_STRING_EQUAL(out, "00ff10");
	enc(ENC_ESCAPE, (const uint8_t *)"a b\t\n\r\\\x01\x7f\"", 10, out);
	CU_ASSERT_STRING_EQUAL(out, "a b\\t\\n\\r\\\\\\x01\\x7f\"");
	enc(ENC_TEXT, (const uint8_t *)"raw\n", 4, out);
	CU_ASSERT_STRING_EQUAL(out, "raw\n");

	/* Every byte value survives both encodings. */
	enc(ENC_HEX, &all[1], 255, out);
	CU_ASSERT_EQUAL(dec(ENC_HEX, out, b), 255);
	CU_ASSERT_EQUAL(memcmp(b, &all[1], 255), 0);
	enc(ENC_ESCAPE, all, 255, out);
	CU_ASSERT(strchr(out, '\t') == NULL);
	CU_ASSERT(strchr(out, '\n') == NULL);
	CU_ASSERT_EQUAL(dec(ENC_ESCAPE, out, b), 255);
	CU_ASSERT_EQUAL(memcmp(b, all, 255), 0);
}

/* Parse the words of ${line} (split at spaces). */
static int
parse(enum enc_mode mode, const char *line, struct cmd *cmd)
{
	struct cmd_word w[8];
	char err[256];
	size_t n = 0;
	const char *p = line, *q;

	while (*p != '\0' && n < 8) {
		if ((q = strchr(p, ' ')) == NULL)
			q = p + strlen(p);
		w[n].s = p;
		w[n++].len = (size_t)(q - p);
		p = (*q == ' ') ? q + 1 : q;
	}
	return (cmd_parse(mode, w, n, cmd, err, sizeof(err)));
}

static void
test_cmd_parse(void)
{
	struct cmd c;

	CU_ASSERT_EQUAL(parse(ENC_TEXT, "cas k old new", &c), 0);
	CU_ASSERT_EQUAL(c.op, CMD_CAS);
	CU_ASSERT(c.keylen == 1 && c.key[0] == 'k');
	CU_ASSERT(c.oldlen == 3 && memcmp(c.old, "old", 3) == 0);
	CU_ASSERT(c.vallen == 3 && memcmp(c.val, "new", 3) == 0);
	CU_ASSERT(cmd_ismodifying(&c));

	CU_ASSERT_EQUAL(parse(ENC_HEX, "cad 00 ff", &c), 0);
	CU_ASSERT(c.op == CMD_CAD && c.keylen == 1 && c.key[0] == 0);
	CU_ASSERT(c.oldlen == 1 && c.old[0] == 0xff);

	CU_ASSERT_EQUAL(parse(ENC_TEXT, "range", &c), 0);
	CU_ASSERT(c.op == CMD_RANGE && c.keylen == 0 && c.endlen == 0);
	CU_ASSERT(!cmd_ismodifying(&c));
	CU_ASSERT_EQUAL(parse(ENC_TEXT, "range a b", &c), 0);
	CU_ASSERT(c.keylen == 1 && c.endlen == 1 && c.end[0] == 'b');

	CU_ASSERT_EQUAL(parse(ENC_TEXT, "get k", &c), 0);
	CU_ASSERT(c.op == CMD_GET && !cmd_ismodifying(&c));
	CU_ASSERT_EQUAL(parse(ENC_TEXT, "params", &c), 0);
	CU_ASSERT_EQUAL(parse(ENC_TEXT, "delete k", &c), 0);
	CU_ASSERT(cmd_ismodifying(&c));

	CU_ASSERT_EQUAL(parse(ENC_TEXT, "get", &c), -1);
	CU_ASSERT_EQUAL(parse(ENC_TEXT, "get a b", &c), -1);
	CU_ASSERT_EQUAL(parse(ENC_TEXT, "set a", &c), -1);
	CU_ASSERT_EQUAL(parse(ENC_TEXT, "params x", &c), -1);
	CU_ASSERT_EQUAL(parse(ENC_TEXT, "range a b c", &c), -1);
	CU_ASSERT_EQUAL(parse(ENC_TEXT, "GET a", &c), -1);
	CU_ASSERT_EQUAL(parse(ENC_TEXT, "gets a", &c), -1);
	CU_ASSERT_EQUAL(parse(ENC_HEX, "get 0", &c), -1);
}

/* Write a dump of ${n} pairs into memory; return the buffer (free it). */
static char *
mkdump(size_t n, size_t *len)
{
	struct dumpfile_info info = { 0, 1234, 255, 255 };
	struct dumpfile_w *w;
	char *buf = NULL;
	uint8_t key[4], val[200];
	FILE *f;
	size_t i;

	f = open_memstream(&buf, len);
	CU_ASSERT_FATAL(f != NULL);
	w = dumpfile_wopen(f, "mem", &info);
	CU_ASSERT_FATAL(w != NULL);
	memset(val, 'v', sizeof(val));
	for (i = 0; i < n; i++) {
		key[0] = (uint8_t)(i >> 8);
		key[1] = (uint8_t)i;
		CU_ASSERT_EQUAL(dumpfile_wpair(w, key, 2, val, i % 200), 0);
	}
	CU_ASSERT_EQUAL(dumpfile_wcount(w), n);
	CU_ASSERT_EQUAL(dumpfile_wfinish(w), 0);
	dumpfile_wfree(w);
	fclose(f);
	return (buf);
}

/*
 * Read a dump from memory: 0 if it reads back whole, -1 if refused.  If
 * ${good}, check the header and pairs against what mkdump() wrote.
 */
static int
readdump(const char *buf, size_t len, size_t *npairs, int good)
{
	struct dumpfile_info info;
	struct dumpfile_r *r;
	const uint8_t *k, *v;
	size_t kl, vl;
	FILE *f;
	int rc;

	f = fmemopen((void *)(uintptr_t)buf, len, "r");
	CU_ASSERT_FATAL(f != NULL);
	if ((r = dumpfile_ropen(f, "mem", &info)) == NULL) {
		fclose(f);
		return (-1);
	}
	if (good) {
		CU_ASSERT_EQUAL(info.time, 1234);
		CU_ASSERT_EQUAL(info.maxkey, 255);
	}
	*npairs = 0;
	while ((rc = dumpfile_rpair(r, &k, &kl, &v, &vl)) == 1) {
		if (good) {
			CU_ASSERT_EQUAL(kl, 2);
			CU_ASSERT_EQUAL(vl, *npairs % 200);
		}
		(*npairs)++;
	}
	dumpfile_rfree(r);
	fclose(f);
	return (rc == 0 ? 0 : -1);
}

static void
test_dumpfile(void)
{
	size_t len, n, i;
	char *buf, *bad;

	/* Round trips, empty and not. */
	buf = mkdump(0, &len);
	CU_ASSERT_EQUAL(len, DUMPFILE_HDRLEN + 9 + 32);
	CU_ASSERT_EQUAL(readdump(buf, len, &n, 1), 0);
	CU_ASSERT_EQUAL(n, 0);
	free(buf);
	buf = mkdump(1000, &len);
	CU_ASSERT_EQUAL(readdump(buf, len, &n, 1), 0);
	CU_ASSERT_EQUAL(n, 1000);

	/* Every single flipped byte, and every truncation, is refused. */
	bad = malloc(len + 1);
	CU_ASSERT_FATAL(bad != NULL);
	for (i = 0; i < len; i += (i < 64 || i > len - 64) ? 1 : 97) {
		memcpy(bad, buf, len);
		bad[i] ^= 0x20;
		CU_ASSERT_EQUAL(readdump(bad, len, &n, 0), -1);
		CU_ASSERT_EQUAL(readdump(buf, i, &n, 0), -1);
	}
	/* A trailing byte. */
	memcpy(bad, buf, len);
	bad[len] = 0;
	CU_ASSERT_EQUAL(readdump(bad, len + 1, &n, 0), -1);
	free(bad);
	free(buf);
}

static void
test_dumpfile_order(void)
{
	struct dumpfile_info info = { 0, 1234, 255, 255 };
	struct dumpfile_w *w;
	char *buf = NULL;
	size_t len, n;
	FILE *f;

	/* A writer fed out of order yields a file the reader refuses. */
	f = open_memstream(&buf, &len);
	CU_ASSERT_FATAL(f != NULL);
	w = dumpfile_wopen(f, "mem", &info);
	CU_ASSERT_FATAL(w != NULL);
	CU_ASSERT_EQUAL(dumpfile_wpair(w, (const uint8_t *)"b", 1, NULL, 0),
	    0);
	CU_ASSERT_EQUAL(dumpfile_wpair(w, (const uint8_t *)"ab", 2, NULL, 0),
	    0);
	CU_ASSERT_EQUAL(dumpfile_wfinish(w), 0);
	dumpfile_wfree(w);
	fclose(f);
	CU_ASSERT_EQUAL(readdump(buf, len, &n, 0), -1);
	free(buf);

	/* Equal keys too; the empty key first is fine. */
	f = open_memstream(&buf, &len);
	CU_ASSERT_FATAL(f != NULL);
	w = dumpfile_wopen(f, "mem", &info);
	CU_ASSERT_FATAL(w != NULL);
	CU_ASSERT_EQUAL(dumpfile_wpair(w, NULL, 0, NULL, 0), 0);
	CU_ASSERT_EQUAL(dumpfile_wpair(w, (const uint8_t *)"a", 1, NULL, 0),
	    0);
	CU_ASSERT_EQUAL(dumpfile_wpair(w, (const uint8_t *)"a", 1, NULL, 0),
	    0);
	CU_ASSERT_EQUAL(dumpfile_wfinish(w), 0);
	dumpfile_wfree(w);
	fclose(f);
	CU_ASSERT_EQUAL(readdump(buf, len, &n, 0), -1);
	CU_ASSERT_EQUAL(n, 2);
	free(buf);
}

UNIT_MAIN("cli",
    { "enc decode", test_enc_decode },
    { "enc limits", test_enc_limits },
    { "enc round trip", test_enc_roundtrip },
    { "cmd parse", test_cmd_parse },
    { "dumpfile round trip and corruption", test_dumpfile },
    { "dumpfile key order", test_dumpfile_order })
