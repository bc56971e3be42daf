#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log/log.h"
#include "sysendian/sysendian.h"

#include "dumpfile.h"

static const uint8_t magic[8] = { 'K', 'V', 'L', 'D', 'S', 'D', 'M', 'P' };

/* Record tags. */
#define TAG_END		0x00
#define TAG_PAIR	0x01

/* Checksum size. */
#define SUMLEN		32

/* Reader buffer: hashed a chunk at a time, not a field at a time. */
#define RBUFSZ		65536

struct dumpfile_w {
	FILE *f;
	const char *name;
	EVP_MD_CTX *md;
	uint64_t bytes;
	uint64_t count;
};

struct dumpfile_r {
	FILE *f;
	const char *name;
	EVP_MD_CTX *md;
	uint64_t bytes;
	uint64_t count;
	uint8_t buf[RBUFSZ];	/* Bytes read from ${f}: buf[pos..len) */
	size_t pos;		/* not consumed yet, buf[hashed..pos) */
	size_t len;		/* consumed but not hashed yet. */
	size_t hashed;
	uint8_t key[256];
	size_t keylen;
	uint8_t prev[256];	/* The previous key, for the order check. */
	size_t prevlen;
	uint8_t val[256];
	size_t vallen;
};

/* A new SHA-256 context, or NULL (printed). */
static EVP_MD_CTX *
md_new(void)
{
	EVP_MD_CTX *md;

	if ((md = EVP_MD_CTX_new()) == NULL) {
		warn0("EVP_MD_CTX_new failed");
		return (NULL);
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		warn0("EVP_DigestInit_ex failed");
		EVP_MD_CTX_free(md);
		return (NULL);
	}
	return (md);
}

/* Write and hash ${len} bytes. */
static int
wr(struct dumpfile_w *w, const void *buf, size_t len, int hash)
{

	if (hash && (EVP_DigestUpdate(w->md, buf, len) != 1)) {
		warn0("EVP_DigestUpdate failed");
		return (-1);
	}
	if ((len > 0) && (fwrite(buf, len, 1, w->f) != 1)) {
		warnp("%s: write", w->name);
		return (-1);
	}
	w->bytes += len;
	return (0);
}

/**
 * dumpfile_wopen(f, name, info):
 * Start a dump file on ${f} described by ${info}.  Return the writer, or
 * NULL (printed).
 */
struct dumpfile_w *
dumpfile_wopen(FILE *f, const char *name, const struct dumpfile_info *info)
{
	struct dumpfile_w *w;
	uint8_t hdr[DUMPFILE_HDRLEN];

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	w->f = f;
	w->name = name;
	if ((w->md = md_new()) == NULL)
		goto err1;

	memcpy(hdr, magic, 8);
	be32enc(&hdr[8], DUMPFILE_VERSION);
	be32enc(&hdr[12], info->flags);
	be64enc(&hdr[16], info->time);
	be32enc(&hdr[24], info->maxkey);
	be32enc(&hdr[28], info->maxval);
	if (wr(w, hdr, sizeof(hdr), 1))
		goto err2;
	return (w);

err2:
	EVP_MD_CTX_free(w->md);
err1:
	free(w);
err0:
	return (NULL);
}

/**
 * dumpfile_wpair(w, key, keylen, value, valuelen):
 * Append a pair.  Return 0, or -1 (printed).
 */
int
dumpfile_wpair(struct dumpfile_w *w, const uint8_t *key, size_t keylen,
    const uint8_t *value, size_t valuelen)
{
	uint8_t rec[3 + 2 * 255];
	size_t n = 0;

	if ((keylen > 255) || (valuelen > 255)) {
		warn0("%s: key or value too long", w->name);
		return (-1);
	}
	rec[n++] = TAG_PAIR;
	rec[n++] = (uint8_t)keylen;
	if (keylen > 0)
		memcpy(&rec[n], key, keylen);
	n += keylen;
	rec[n++] = (uint8_t)valuelen;
	if (valuelen > 0)
		memcpy(&rec[n], value, valuelen);
	n += valuelen;
	if (wr(w, rec, n, 1))
		return (-1);
	w->count++;
	return (0);
}

/**
 * dumpfile_wbytes(w), dumpfile_wcount(w):
 * Bytes and pairs written so far.
 */
uint64_t
dumpfile_wbytes(const struct dumpfile_w *w)
{

	return (w->bytes);
}

uint64_t
dumpfile_wcount(const struct dumpfile_w *w)
{

	return (w->count);
}

/**
 * dumpfile_wfinish(w):
 * Write the trailer and flush.  Return 0, or -1 (printed).
 */
int
dumpfile_wfinish(struct dumpfile_w *w)
{
	uint8_t end[9];
	uint8_t sum[EVP_MAX_MD_SIZE];
	unsigned int sumlen;

	end[0] = TAG_END;
	be64enc(&end[1], w->count);
	if (wr(w, end, sizeof(end), 1))
		return (-1);
	if ((EVP_DigestFinal_ex(w->md, sum, &sumlen) != 1) ||
	    (sumlen != SUMLEN)) {
		warn0("EVP_DigestFinal_ex failed");
		return (-1);
	}
	if (wr(w, sum, SUMLEN, 0))
		return (-1);
	if (fflush(w->f)) {
		warnp("%s: write", w->name);
		return (-1);
	}
	return (0);
}

/**
 * dumpfile_wfree(w):
 * Free ${w}.  NULL is a no-op.
 */
void
dumpfile_wfree(struct dumpfile_w *w)
{

	if (w == NULL)
		return;
	EVP_MD_CTX_free(w->md);
	free(w);
}

/* Hash the bytes consumed since the last call. */
static int
md_flush(struct dumpfile_r *r)
{

	if ((r->pos > r->hashed) &&
	    (EVP_DigestUpdate(r->md, &r->buf[r->hashed], r->pos - r->hashed) !=
	    1)) {
		warn0("EVP_DigestUpdate failed");
		return (-1);
	}
	r->hashed = r->pos;
	return (0);
}

/*
 * Read exactly ${len} bytes (hashed if ${hash}).  Return 0, or -1 after
 * printing a read error or "truncated".
 */
static int
rd(struct dumpfile_r *r, void *out, size_t len, int hash)
{
	uint8_t *p = out;
	size_t m;

	if (!hash && md_flush(r))
		return (-1);
	while (len > 0) {
		if (r->pos == r->len) {
			if (md_flush(r))
				return (-1);
			r->pos = r->hashed = 0;
			r->len = fread(r->buf, 1, sizeof(r->buf), r->f);
			if (r->len == 0) {
				if (ferror(r->f))
					warnp("%s: read", r->name);
				else
					warn0("%s: corrupt dump file: "
					    "truncated at byte %ju", r->name,
					    (uintmax_t)r->bytes);
				return (-1);
			}
		}
		m = r->len - r->pos;
		if (m > len)
			m = len;
		memcpy(p, &r->buf[r->pos], m);
		r->pos += m;
		r->bytes += m;
		p += m;
		len -= m;
		if (!hash)
			r->hashed = r->pos;
	}
	return (0);
}

/**
 * dumpfile_ropen(f, name, info):
 * Read and check the header of the dump file on ${f}.  Return the reader,
 * or NULL (printed).
 */
struct dumpfile_r *
dumpfile_ropen(FILE *f, const char *name, struct dumpfile_info *info)
{
	struct dumpfile_r *r;
	uint8_t hdr[DUMPFILE_HDRLEN];
	uint32_t version;
	size_t n;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		warnp("calloc");
		goto err0;
	}
	r->f = f;
	r->name = name;
	if ((r->md = md_new()) == NULL)
		goto err1;
	/* Tell a foreign file from a truncated dump: magic first. */
	n = fread(hdr, 1, sizeof(hdr), f);
	if (ferror(f)) {
		warnp("%s: read", name);
		goto err2;
	}
	if (memcmp(hdr, magic, (n < sizeof(magic)) ? n : sizeof(magic)) ||
	    (n == 0)) {
		warn0("%s: not a kvlds dump file", name);
		goto err2;
	}
	if (n < sizeof(hdr)) {
		warn0("%s: corrupt dump file: truncated header", name);
		goto err2;
	}
	if (EVP_DigestUpdate(r->md, hdr, sizeof(hdr)) != 1) {
		warn0("EVP_DigestUpdate failed");
		goto err2;
	}
	r->bytes = sizeof(hdr);
	if ((version = be32dec(&hdr[8])) != DUMPFILE_VERSION) {
		warn0("%s: dump format version %u (this program reads %u)",
		    name, (unsigned int)version, DUMPFILE_VERSION);
		goto err2;
	}
	info->flags = be32dec(&hdr[12]);
	if (info->flags & ~DUMPFILE_F_SNAPSHOT) {
		warn0("%s: corrupt dump file: unknown flags 0x%08x", name,
		    (unsigned int)info->flags);
		goto err2;
	}
	info->time = be64dec(&hdr[16]);
	info->maxkey = be32dec(&hdr[24]);
	info->maxval = be32dec(&hdr[28]);
	return (r);

err2:
	EVP_MD_CTX_free(r->md);
err1:
	free(r);
err0:
	return (NULL);
}

/* Is ${a} < ${b}, comparing unsigned bytes, a proper prefix first? */
static int
keyless(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c;

	c = memcmp(a, b, (alen < blen) ? alen : blen);
	if (c != 0)
		return (c < 0);
	return (alen < blen);
}

/* The trailer: count, checksum, end of file. */
static int
trailer(struct dumpfile_r *r)
{
	uint8_t cnt[8], want[SUMLEN], got[EVP_MAX_MD_SIZE];
	unsigned int gotlen;
	uint64_t n;

	if (rd(r, cnt, sizeof(cnt), 1))
		return (-1);
	if ((n = be64dec(cnt)) != r->count) {
		warn0("%s: corrupt dump file: the trailer counts %ju pairs, "
		    "the file holds %ju", r->name, (uintmax_t)n,
		    (uintmax_t)r->count);
		return (-1);
	}
	if (md_flush(r) ||
	    (EVP_DigestFinal_ex(r->md, got, &gotlen) != 1) ||
	    (gotlen != SUMLEN)) {
		warn0("EVP_DigestFinal_ex failed");
		return (-1);
	}
	if (rd(r, want, sizeof(want), 0))
		return (-1);
	if (CRYPTO_memcmp(want, got, SUMLEN) != 0) {
		warn0("%s: corrupt dump file: SHA-256 checksum mismatch",
		    r->name);
		return (-1);
	}
	if ((r->pos < r->len) || (fgetc(r->f) != EOF)) {
		warn0("%s: corrupt dump file: bytes after the checksum",
		    r->name);
		return (-1);
	}
	if (ferror(r->f)) {
		warnp("%s: read", r->name);
		return (-1);
	}
	return (0);
}

/**
 * dumpfile_rpair(r, key, keylen, value, valuelen):
 * Read the next pair (1), or check the trailer (0), or fail (-1,
 * printed).
 */
int
dumpfile_rpair(struct dumpfile_r *r, const uint8_t **key, size_t *keylen,
    const uint8_t **value, size_t *valuelen)
{
	uint8_t tag, len;

	if (rd(r, &tag, 1, 1))
		return (-1);
	if (tag == TAG_END)
		return (trailer(r) ? -1 : 0);
	if (tag != TAG_PAIR) {
		warn0("%s: corrupt dump file: bad record tag 0x%02x at "
		    "byte %ju", r->name, tag, (uintmax_t)(r->bytes - 1));
		return (-1);
	}

	/* Remember the previous key before reading this one. */
	memcpy(r->prev, r->key, r->keylen);
	r->prevlen = r->keylen;
	if (rd(r, &len, 1, 1) || rd(r, r->key, len, 1))
		return (-1);
	r->keylen = len;
	if (rd(r, &len, 1, 1) || rd(r, r->val, len, 1))
		return (-1);
	r->vallen = len;
	if ((r->count > 0) &&
	    !keyless(r->prev, r->prevlen, r->key, r->keylen)) {
		warn0("%s: corrupt dump file: keys out of order at pair %ju",
		    r->name, (uintmax_t)r->count);
		return (-1);
	}
	r->count++;
	*key = r->key;
	*keylen = r->keylen;
	*value = r->val;
	*valuelen = r->vallen;
	return (1);
}

/**
 * dumpfile_rbytes(r), dumpfile_rcount(r):
 * Bytes and pairs read so far.
 */
uint64_t
dumpfile_rbytes(const struct dumpfile_r *r)
{

	return (r->bytes);
}

uint64_t
dumpfile_rcount(const struct dumpfile_r *r)
{

	return (r->count);
}

/**
 * dumpfile_rfree(r):
 * Free ${r}.  NULL is a no-op.
 */
void
dumpfile_rfree(struct dumpfile_r *r)
{

	if (r == NULL)
		return;
	EVP_MD_CTX_free(r->md);
	free(r);
}
