#ifndef PARSE_H_
#define PARSE_H_

/*
 * parse: strict parsing of numbers given on command lines and in
 * configuration.
 *
 * Every function accepts the whole string or nothing: no leading or
 * trailing blanks, no trailing junk, no sign where none is allowed, no
 * silent overflow.  On error each returns -1 with errno set to EINVAL (not
 * a well-formed number of that kind) or ERANGE (well-formed but out of
 * range), leaves *${out} untouched and prints nothing: the caller knows
 * which option was wrong and reports it, e.g.
 *	if (parse_int(optarg, 1, 1024, &n)) { warnp("-n %s", optarg); ...}
 */

#include <sys/types.h>

#include <stdint.h>

/**
 * parse_uint64(s, min, max, out):
 * Parse the decimal unsigned integer ${s} (digits only) into *${out};
 * fail with ERANGE unless ${min} <= value <= ${max}.
 */
int parse_uint64(const char *, uint64_t, uint64_t, uint64_t *);

/**
 * parse_int64(s, min, max, out):
 * Parse the decimal integer ${s} (digits with an optional leading '-')
 * into *${out}; fail with ERANGE unless ${min} <= value <= ${max}.
 */
int parse_int64(const char *, int64_t, int64_t, int64_t *);

/**
 * parse_int(s, min, max, out):
 * parse_int64() for an int: counts, ports, thread numbers.
 */
int parse_int(const char *, int, int, int *);

/**
 * parse_size(s, out):
 * Parse a size in bytes into *${out}: decimal digits followed by nothing
 * (bytes) or one suffix among k, M, G, T, P, E (case-insensitive, binary
 * multiples: 4k = 4096, 128M = 134217728), optionally followed by "B" or
 * "iB" (so "4KiB", "4kB", "4K", "4096" and "4096B" are the same).
 * Fractions are refused.  ERANGE if the result does not fit 64 bits.
 */
int parse_size(const char *, uint64_t *);

/**
 * parse_duration(s, seconds):
 * Parse a non-negative duration into *${seconds}: a decimal number with
 * an optional fraction ("5", "0.5", "1.25") followed by an optional unit:
 * "ms", "s" (the default), "m" (minutes) or "h".  Exponents, hex, inf and
 * nan are refused; ERANGE if it exceeds 10 years.
 */
int parse_duration(const char *, double *);

/**
 * parse_mode(s, out):
 * Parse an octal file mode ("600", "0660", "2755") into *${out}; at most
 * 07777 (ERANGE beyond).
 */
int parse_mode(const char *, mode_t *);

#endif /* !PARSE_H_ */
