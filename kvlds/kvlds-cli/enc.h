#ifndef ENC_H_
#define ENC_H_

/*
 * enc: how kvlds-cli reads keys and values from its command line (or a
 * batch line) and writes them back out.  One encoding is chosen for a
 * whole run and applies to input and output alike:
 *
 *	ENC_TEXT	the bytes as they are (output: raw bytes)
 *	ENC_HEX		two hex digits per byte, either case on input,
 *			lowercase on output; "" is the empty string
 *	ENC_ESCAPE	C-style escapes: \\ \n \t \r \0 \a \b \f \v \" \'
 *			and \xNN (exactly two hex digits); any other byte
 *			stands for itself.  Output escapes every byte
 *			outside 0x20..0x7e, and the backslash, so that an
 *			output line never holds a tab or a newline of data.
 */

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

enum enc_mode {
	ENC_TEXT = 0,
	ENC_HEX,
	ENC_ESCAPE
};

/**
 * enc_decode(mode, s, slen, buf, buflen, outlen, why):
 * Decode the ${slen} characters at ${s} in the encoding ${mode} into
 * ${buf}, which has room for ${buflen} bytes; store the length in
 * *${outlen}.  Return 0, or -1 with a static description of the problem
 * in *${why} (bad hex digit, odd number of digits, unknown escape, longer
 * than ${buflen} bytes).  Prints nothing.
 */
int enc_decode(enum enc_mode, const char *, size_t, uint8_t *, size_t,
    size_t *, const char **);

/**
 * enc_encode(mode, out, buf, len):
 * Append the ${len} bytes at ${buf}, in the encoding ${mode}, to the
 * evbuffer ${out}.  Return 0, or -1 if memory ran out.
 */
int enc_encode(enum enc_mode, struct evbuffer *, const uint8_t *, size_t);

#endif /* !ENC_H_ */
