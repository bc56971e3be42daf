#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "enc.h"

/* Value of the hex digit ${c}, or -1. */
static int
hexval(char c)
{

	if ((c >= '0') && (c <= '9'))
		return (c - '0');
	if ((c >= 'a') && (c <= 'f'))
		return (c - 'a' + 10);
	if ((c >= 'A') && (c <= 'F'))
		return (c - 'A' + 10);
	return (-1);
}

/* The byte an escape "\c" stands for, or -1 if "\c" is not one. */
static int
escval(char c)
{

	switch (c) {
	case '\\':	return ('\\');
	case 'n':	return ('\n');
	case 't':	return ('\t');
	case 'r':	return ('\r');
	case '0':	return ('\0');
	case 'a':	return ('\a');
	case 'b':	return ('\b');
	case 'f':	return ('\f');
	case 'v':	return ('\v');
	case '"':	return ('"');
	case '\'':	return ('\'');
	default:	return (-1);
	}
}

/**
 * enc_decode(mode, s, slen, buf, buflen, outlen, why):
 * Decode ${s} (${slen} characters) in the encoding ${mode} into ${buf}
 * (room for ${buflen} bytes), length in *${outlen}.  Return 0, or -1 with
 * a static description in *${why}.
 */
int
enc_decode(enum enc_mode mode, const char *s, size_t slen, uint8_t *buf,
    size_t buflen, size_t *outlen, const char **why)
{
	size_t i, n = 0;
	int hi, lo, c;

	for (i = 0; i < slen; n++) {
		if (n == buflen) {
			*why = "too long";
			return (-1);
		}
		switch (mode) {
		case ENC_TEXT:
			buf[n] = (uint8_t)s[i++];
			break;
		case ENC_HEX:
			if (i + 1 == slen) {
				*why = "odd number of hex digits";
				return (-1);
			}
			if (((hi = hexval(s[i])) < 0) ||
			    ((lo = hexval(s[i + 1])) < 0)) {
				*why = "not a hex digit";
				return (-1);
			}
			buf[n] = (uint8_t)((hi << 4) | lo);
			i += 2;
			break;
		case ENC_ESCAPE:
			if (s[i] != '\\') {
				buf[n] = (uint8_t)s[i++];
				break;
			}
			if (i + 1 == slen) {
				*why = "backslash at the end";
				return (-1);
			}
			if (s[i + 1] == 'x') {
				if ((i + 3 >= slen) ||
				    ((hi = hexval(s[i + 2])) < 0) ||
				    ((lo = hexval(s[i + 3])) < 0)) {
					*why = "\\x needs two hex digits";
					return (-1);
				}
				buf[n] = (uint8_t)((hi << 4) | lo);
				i += 4;
				break;
			}
			if ((c = escval(s[i + 1])) < 0) {
				*why = "unknown escape";
				return (-1);
			}
			buf[n] = (uint8_t)c;
			i += 2;
			break;
		}
	}
	*outlen = n;
	return (0);
}

/**
 * enc_encode(mode, out, buf, len):
 * Append ${buf} (${len} bytes) in the encoding ${mode} to ${out}.
 * Return 0, or -1 if memory ran out.
 */
int
enc_encode(enum enc_mode mode, struct evbuffer *out, const uint8_t *buf,
    size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[4 * 256];
	size_t i, n;

	if (mode == ENC_TEXT)
		return (evbuffer_add(out, buf, len));

	/* Keys and values are at most 255 bytes; encode in pieces anyway. */
	for (n = 0, i = 0; i < len; i++) {
		if (n + 4 > sizeof(tmp)) {
			if (evbuffer_add(out, tmp, n))
				return (-1);
			n = 0;
		}
		if (mode == ENC_HEX) {
			tmp[n++] = hex[buf[i] >> 4];
			tmp[n++] = hex[buf[i] & 0x0f];
			continue;
		}
		switch (buf[i]) {
		case '\\':
			tmp[n++] = '\\';
			tmp[n++] = '\\';
			break;
		case '\n':
			tmp[n++] = '\\';
			tmp[n++] = 'n';
			break;
		case '\t':
			tmp[n++] = '\\';
			tmp[n++] = 't';
			break;
		case '\r':
			tmp[n++] = '\\';
			tmp[n++] = 'r';
			break;
		default:
			if ((buf[i] >= 0x20) && (buf[i] <= 0x7e)) {
				tmp[n++] = (char)buf[i];
			} else {
				tmp[n++] = '\\';
				tmp[n++] = 'x';
				tmp[n++] = hex[buf[i] >> 4];
				tmp[n++] = hex[buf[i] & 0x0f];
			}
			break;
		}
	}
	return (evbuffer_add(out, tmp, n));
}
