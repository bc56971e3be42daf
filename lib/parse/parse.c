/*
 * parse: see parse.h.
 *
 * The digit loops are written by hand instead of relying on strtoull(3),
 * which accepts blanks, signs and hex, and silently negates "-1".
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "parse.h"

/*
 * Parse the digits at *${sp} (base ${base}, at least one) into *${v},
 * advancing *${sp} past them.  Return 0, -1 (EINVAL) if there is no digit,
 * or -1 (ERANGE) on overflow (the digits are still consumed).
 */
static int
digits(const char **sp, unsigned int base, uint64_t *v)
{
	const char *s = *sp;
	uint64_t x = 0;
	unsigned int d;
	int ovf = 0;

	if (*s < '0' || *s >= (char)('0' + base)) {
		errno = EINVAL;
		return (-1);
	}
	for (; *s >= '0' && *s < (char)('0' + base); s++) {
		d = (unsigned int)(*s - '0');
		if (x > (UINT64_MAX - d) / base)
			ovf = 1;
		else
			x = x * base + d;
	}
	*sp = s;
	if (ovf) {
		errno = ERANGE;
		return (-1);
	}
	*v = x;
	return (0);
}

/*
 * Parse the whole unsigned string ${s} (base ${base}, no trailing junk)
 * into *${v}.  Return 0, or -1 (EINVAL, or ERANGE on overflow).
 */
static int
whole_uint(const char *s, unsigned int base, uint64_t *v)
{
	uint64_t x;

	if (s == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (digits(&s, base, &x)) {
		/* Overflow only counts if nothing follows. */
		if (errno == ERANGE && *s != '\0')
			errno = EINVAL;
		return (-1);
	}
	if (*s != '\0') {
		errno = EINVAL;
		return (-1);
	}
	*v = x;
	return (0);
}

/* As whole_uint(), and -1 (ERANGE) unless ${min} <= *${v} <= ${max}. */
static int
whole_uint_in(const char *s, unsigned int base, uint64_t min, uint64_t max,
    uint64_t *v)
{
	uint64_t x;

	if (whole_uint(s, base, &x))
		return (-1);
	if (x < min || x > max) {
		errno = ERANGE;
		return (-1);
	}
	*v = x;
	return (0);
}

/**
 * parse_uint64(s, min, max, out):
 * Parse the decimal unsigned integer ${s} within [${min}, ${max}].
 */
int
parse_uint64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{

	return (whole_uint_in(s, 10, min, max, out));
}

/**
 * parse_int64(s, min, max, out):
 * Parse the decimal signed integer ${s} within [${min}, ${max}].
 */
int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	uint64_t mag;
	int64_t v;
	int neg = 0;

	if (s != NULL && *s == '-') {
		neg = 1;
		s++;
	}
	if (whole_uint(s, 10, &mag))
		return (-1);
	if (neg) {
		/* INT64_MIN's magnitude is INT64_MAX + 1. */
		if (mag > (uint64_t)INT64_MAX + 1) {
			errno = ERANGE;
			return (-1);
		}
		v = (mag == (uint64_t)INT64_MAX + 1) ? INT64_MIN :
		    -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX) {
			errno = ERANGE;
			return (-1);
		}
		v = (int64_t)mag;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return (-1);
	}
	*out = v;
	return (0);
}

/**
 * parse_int(s, min, max, out):
 * parse_int64() for an int.
 */
int
parse_int(const char *s, int min, int max, int *out)
{
	int64_t v;

	if (parse_int64(s, min, max, &v))
		return (-1);
	*out = (int)v;
	return (0);
}

/**
 * parse_size(s, out):
 * Parse a byte count with an optional binary suffix.
 */
int
parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgtpe";
	const char *u;
	uint64_t v;
	unsigned int shift = 0;
	int ovf = 0;
	char c;

	if (s == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (digits(&s, 10, &v)) {
		if (errno != ERANGE)
			return (-1);
		ovf = 1;
	}
	c = *s;
	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	if (c != '\0' && (u = strchr(units, c)) != NULL) {
		shift = 10 * (unsigned int)(u - units + 1);
		s++;
		if (*s == 'i')
			s++;
		if (*s == 'B' || *s == 'b')
			s++;
		else if (s[-1] == 'i')
			goto einval;
	} else if (*s == 'B') {
		s++;
	}
	if (*s != '\0')
		goto einval;
	if (ovf || (shift > 0 && v > (UINT64_MAX >> shift))) {
		errno = ERANGE;
		return (-1);
	}
	*out = v << shift;
	return (0);

einval:
	errno = EINVAL;
	return (-1);
}

/**
 * parse_duration(s, seconds):
 * Parse a non-negative decimal duration with an optional unit.
 */
int
parse_duration(const char *s, double *seconds)
{
	double v = 0, scale = 1, mult;
	int ndig = 0;

	if (s == NULL)
		goto einval;
	for (; *s >= '0' && *s <= '9'; s++, ndig++) {
		v = v * 10 + (*s - '0');
		if (v > 1e12) {
			errno = ERANGE;
			return (-1);
		}
	}
	if (ndig == 0)
		goto einval;
	if (*s == '.') {
		s++;
		/* "1." is refused: a dot needs digits after it. */
		if (*s < '0' || *s > '9')
			goto einval;
		for (; *s >= '0' && *s <= '9'; s++, ndig++) {
			scale /= 10;
			v += (*s - '0') * scale;
		}
	}
	if (strcmp(s, "") == 0 || strcmp(s, "s") == 0)
		mult = 1;
	else if (strcmp(s, "ms") == 0)
		mult = 0.001;
	else if (strcmp(s, "m") == 0)
		mult = 60;
	else if (strcmp(s, "h") == 0)
		mult = 3600;
	else
		goto einval;
	v *= mult;
	if (v > 10.0 * 366 * 86400) {
		errno = ERANGE;
		return (-1);
	}
	*seconds = v;
	return (0);

einval:
	errno = EINVAL;
	return (-1);
}

/**
 * parse_mode(s, out):
 * Parse an octal file mode, at most 07777.
 */
int
parse_mode(const char *s, mode_t *out)
{
	uint64_t v;

	if (whole_uint_in(s, 8, 0, 07777, &v))
		return (-1);
	*out = (mode_t)v;
	return (0);
}
