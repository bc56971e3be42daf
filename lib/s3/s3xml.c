/*
 * s3xml: ListObjectsV2 results and error codes (see s3xml.h).
 *
 * S3 escapes '<' and '&' in text, so a tag string found in the body is
 * real markup: searching for "<Name>" ... "</Name>" is exact for the
 * flat elements read here.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

#include "s3xml.h"

/* Find needle in [p, end); NULL if absent. */
static const char *
find(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	if (p == NULL || (size_t)(end - p) < n)
		return (NULL);
	return (memmem(p, (size_t)(end - p), needle, n));
}

/*
 * Find the first element ${name} in [p, end): set its text to [*vs, *ve)
 * and *after past its end tag.  Returns 1 if found, 0 if absent, -1 if
 * opened but never closed.  "<name/>" is an empty element.
 */
static int
elem(const char *p, const char *end, const char *name, const char **vs,
    const char **ve, const char **after)
{
	char open[64], close[64], empty[64];
	const char *o, *e, *c;

	snprintf(open, sizeof(open), "<%s>", name);
	snprintf(close, sizeof(close), "</%s>", name);
	snprintf(empty, sizeof(empty), "<%s/>", name);
	o = find(p, end, open);
	e = find(p, end, empty);
	if (e != NULL && (o == NULL || e < o)) {
		*vs = *ve = e;
		*after = e + strlen(empty);
		return (1);
	}
	if (o == NULL)
		return (0);
	if ((c = find(o + strlen(open), end, close)) == NULL)
		return (-1);
	*vs = o + strlen(open);
	*ve = c;
	*after = c + strlen(close);
	return (1);
}

/* Exactly one element ${name} in [p, end)?  Like elem, but 0 also if two. */
static int
one(const char *p, const char *end, const char *name, const char **vs,
    const char **ve)
{
	const char *after, *s2, *e2, *a2;

	if (elem(p, end, name, vs, ve, &after) != 1)
		return (0);
	if (elem(after, end, name, &s2, &e2, &a2) != 0)
		return (0);
	return (1);
}

/* Decode the entities of [s, e) into a malloc'd string; NULL if bad. */
static char *
decode(const char *s, const char *e)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' }
	};
	char *out, *o, *stop;
	unsigned long v;
	size_t i, n;

	if ((out = malloc((size_t)(e - s) + 1)) == NULL)
		return (NULL);
	for (o = out; s < e; ) {
		if (*s == '<')
			goto bad;
		if (*s != '&') {
			*o++ = *s++;
			continue;
		}
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			n = strlen(ents[i].ent);
			if ((size_t)(e - s) >= n && memcmp(s, ents[i].ent, n) == 0)
				break;
		}
		if (i < sizeof(ents) / sizeof(ents[0])) {
			*o++ = ents[i].c;
			s += n;
			continue;
		}
		/* &#N; or &#xN; for bytes 1..127 only (keys here are ASCII). */
		if (e - s < 4 || s[1] != '#')
			goto bad;
		if (s[2] == 'x')
			v = strtoul(s + 3, &stop, 16);
		else
			v = strtoul(s + 2, &stop, 10);
		if (stop >= e || *stop != ';' || v == 0 || v > 127 ||
		    stop == s + 2 || stop == s + 3)
			goto bad;
		*o++ = (char)v;
		s = stop + 1;
	}
	*o = '\0';
	return (out);

bad:
	free(out);
	return (NULL);
}

/* Parse a decimal in [s, e) strictly. */
static int
decimal(const char *s, const char *e, uint64_t *v)
{

	if (s == e || e - s > 19)
		return (-1);
	for (*v = 0; s < e; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	return (0);
}

/*
 * s3_xml_list(body, len, cb, cookie, next):
 * Parse a ListBucketResult (see s3xml.h).  0, ${cb}'s non-zero value, or
 * -1 on a malformed body (logged).
 */
int
s3_xml_list(const char * body, size_t len,
    int (*cb)(void *, const char *, uint64_t), void * cookie, char ** next)
{
	const char *end = body + len, *p, *vs, *ve, *cs, *ce, *after;
	const char *ks, *ke, *ss, *se;
	uint64_t size, count = 0, kc;
	char *key;
	int rc, trunc;

	*next = NULL;
	/* The root element, whole. */
	if ((p = find(body, end, "<ListBucketResult")) == NULL ||
	    find(p, end, "</ListBucketResult>") == NULL) {
		warn0("s3: listing: no ListBucketResult");
		return (-1);
	}
	end = find(p, end, "</ListBucketResult>");

	if (!one(p, end, "IsTruncated", &vs, &ve)) {
		warn0("s3: listing: IsTruncated missing or repeated");
		return (-1);
	}
	if (ve - vs == 4 && memcmp(vs, "true", 4) == 0)
		trunc = 1;
	else if (ve - vs == 5 && memcmp(vs, "false", 5) == 0)
		trunc = 0;
	else {
		warn0("s3: listing: bad IsTruncated");
		return (-1);
	}

	for (;;) {
		rc = elem(p, end, "Contents", &cs, &ce, &after);
		if (rc == 0)
			break;
		if (rc < 0 || !one(cs, ce, "Key", &ks, &ke) ||
		    !one(cs, ce, "Size", &ss, &se)) {
			warn0("s3: listing: malformed Contents");
			return (-1);
		}
		if (decimal(ss, se, &size)) {
			warn0("s3: listing: bad Size");
			return (-1);
		}
		if (ks == ke || (key = decode(ks, ke)) == NULL) {
			warn0("s3: listing: bad Key");
			return (-1);
		}
		rc = cb(cookie, key, size);
		free(key);
		if (rc)
			return (rc);
		count++;
		p = after;
	}
	p = find(body, end, "<ListBucketResult");

	/* Version 2 results say how many entries they hold. */
	if (elem(p, end, "KeyCount", &vs, &ve, &after) == 1 &&
	    (decimal(vs, ve, &kc) || kc != count)) {
		warn0("s3: listing: KeyCount does not match the entries");
		return (-1);
	}
	if (trunc) {
		if (!one(p, end, "NextContinuationToken", &vs, &ve) ||
		    vs == ve || (*next = decode(vs, ve)) == NULL) {
			warn0("s3: listing: truncated without a token");
			return (-1);
		}
	}
	return (0);
}

/*
 * s3_xml_errcode(body, len, code, codelen):
 * Copy the <Code> of an <Error> body into code[0..codelen); "" if none.
 */
void
s3_xml_errcode(const char * body, size_t len, char * code, size_t codelen)
{
	const char *vs, *ve, *after, *p;
	size_t n;

	code[0] = '\0';
	if ((p = find(body, body + len, "<Error>")) == NULL)
		return;
	if (elem(p, body + len, "Code", &vs, &ve, &after) != 1)
		return;
	n = (size_t)(ve - vs);
	if (n >= codelen)
		n = codelen - 1;
	memcpy(code, vs, n);
	code[n] = '\0';
}
