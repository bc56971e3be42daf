/*
 * Unit tests for lib/parse: strict numbers, sizes, durations, modes.
 */
#include <errno.h>
#include <stdint.h>

#include "parse/parse.h"

#include "unit.h"

/* Expect ${call} to fail with errno ${e}. */
#define FAILS(call, e) do {						\
	errno = 0;							\
	CU_ASSERT_EQUAL((call), -1);					\
	CU_ASSERT_EQUAL(errno, (e));					\
} while (0)

static void
test_uint64(void)
{
	uint64_t v = 7;

	CU_ASSERT_EQUAL(parse_uint64("0", 0, 10, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(parse_uint64("10", 0, 10, &v), 0);
	CU_ASSERT_EQUAL(v, 10);
	CU_ASSERT_EQUAL(parse_uint64("18446744073709551615", 0, UINT64_MAX,
	    &v), 0);
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	CU_ASSERT_EQUAL(parse_uint64("007", 0, 10, &v), 0);
	CU_ASSERT_EQUAL(v, 7);

	v = 42;
	FAILS(parse_uint64("18446744073709551616", 0, UINT64_MAX, &v), ERANGE);
	FAILS(parse_uint64("99999999999999999999999", 0, UINT64_MAX, &v),
	    ERANGE);
	FAILS(parse_uint64("11", 0, 10, &v), ERANGE);
	FAILS(parse_uint64("4", 5, 10, &v), ERANGE);
	FAILS(parse_uint64("", 0, 10, &v), EINVAL);
	FAILS(parse_uint64(" 1", 0, 10, &v), EINVAL);
	FAILS(parse_uint64("1 ", 0, 10, &v), EINVAL);
	FAILS(parse_uint64("1x", 0, 10, &v), EINVAL);
	FAILS(parse_uint64("+1", 0, 10, &v), EINVAL);
	FAILS(parse_uint64("-1", 0, 10, &v), EINVAL);
	FAILS(parse_uint64("0x10", 0, 100, &v), EINVAL);
	FAILS(parse_uint64("99999999999999999999999z", 0, UINT64_MAX, &v),
	    EINVAL);
	FAILS(parse_uint64(NULL, 0, 10, &v), EINVAL);
	/* Output untouched on error. */
	CU_ASSERT_EQUAL(v, 42);
}

static void
test_int64(void)
{
	int64_t v;
	int i;

	CU_ASSERT_EQUAL(parse_int64("-5", -10, 10, &v), 0);
	CU_ASSERT_EQUAL(v, -5);
	CU_ASSERT_EQUAL(parse_int64("9223372036854775807", INT64_MIN,
	    INT64_MAX, &v), 0);
	CU_ASSERT_EQUAL(v, INT64_MAX);
	CU_ASSERT_EQUAL(parse_int64("-9223372036854775808", INT64_MIN,
	    INT64_MAX, &v), 0);
	CU_ASSERT_EQUAL(v, INT64_MIN);
	CU_ASSERT_EQUAL(parse_int64("-0", -1, 1, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	FAILS(parse_int64("9223372036854775808", INT64_MIN, INT64_MAX, &v),
	    ERANGE);
	FAILS(parse_int64("-9223372036854775809", INT64_MIN, INT64_MAX, &v),
	    ERANGE);
	FAILS(parse_int64("-11", -10, 10, &v), ERANGE);
	FAILS(parse_int64("--1", -10, 10, &v), EINVAL);
	FAILS(parse_int64("-", -10, 10, &v), EINVAL);
	FAILS(parse_int64("1-", -10, 10, &v), EINVAL);

	CU_ASSERT_EQUAL(parse_int("65535", 0, 65535, &i), 0);
	CU_ASSERT_EQUAL(i, 65535);
	FAILS(parse_int("65536", 0, 65535, &i), ERANGE);
	FAILS(parse_int("2147483648", INT32_MIN, INT32_MAX, &i), ERANGE);
	CU_ASSERT_EQUAL(parse_int("-2147483648", INT32_MIN, INT32_MAX, &i),
	    0);
	CU_ASSERT_EQUAL(i, INT32_MIN);
}

static void
test_size(void)
{
	uint64_t v;

	CU_ASSERT_EQUAL(parse_size("4096", &v), 0);
	CU_ASSERT_EQUAL(v, 4096);
	CU_ASSERT_EQUAL(parse_size("4096B", &v), 0);
	CU_ASSERT_EQUAL(v, 4096);
	CU_ASSERT_EQUAL(parse_size("4k", &v), 0);
	CU_ASSERT_EQUAL(v, 4096);
	CU_ASSERT_EQUAL(parse_size("4K", &v), 0);
	CU_ASSERT_EQUAL(v, 4096);
	CU_ASSERT_EQUAL(parse_size("4KiB", &v), 0);
	CU_ASSERT_EQUAL(v, 4096);
	CU_ASSERT_EQUAL(parse_size("4kB", &v), 0);
	CU_ASSERT_EQUAL(v, 4096);
	CU_ASSERT_EQUAL(parse_size("128M", &v), 0);
	CU_ASSERT_EQUAL(v, 134217728);
	CU_ASSERT_EQUAL(parse_size("1G", &v), 0);
	CU_ASSERT_EQUAL(v, 1073741824);
	CU_ASSERT_EQUAL(parse_size("2t", &v), 0);
	CU_ASSERT_EQUAL(v, 2ULL << 40);
	CU_ASSERT_EQUAL(parse_size("15E", &v), 0);
	CU_ASSERT_EQUAL(v, 15ULL << 60);
	CU_ASSERT_EQUAL(parse_size("0", &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	FAILS(parse_size("16E", &v), ERANGE);
	FAILS(parse_size("18446744073709551616", &v), ERANGE);
	FAILS(parse_size("", &v), EINVAL);
	FAILS(parse_size("k", &v), EINVAL);
	FAILS(parse_size("1.5G", &v), EINVAL);
	FAILS(parse_size("4x", &v), EINVAL);
	FAILS(parse_size("4Ki", &v), EINVAL);
	FAILS(parse_size("4KB ", &v), EINVAL);
	FAILS(parse_size("-4k", &v), EINVAL);
	FAILS(parse_size("4kk", &v), EINVAL);
}

static void
test_duration(void)
{
	double d;

	CU_ASSERT_EQUAL(parse_duration("5", &d), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 5.0, 1e-9);
	CU_ASSERT_EQUAL(parse_duration("0.5", &d), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 0.5, 1e-9);
	CU_ASSERT_EQUAL(parse_duration("100ms", &d), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 0.1, 1e-9);
	CU_ASSERT_EQUAL(parse_duration("2s", &d), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 2.0, 1e-9);
	CU_ASSERT_EQUAL(parse_duration("1m", &d), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 60.0, 1e-9);
	CU_ASSERT_EQUAL(parse_duration("1.5h", &d), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 5400.0, 1e-9);
	CU_ASSERT_EQUAL(parse_duration("0", &d), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 0.0, 1e-12);
	CU_ASSERT_EQUAL(parse_duration("0.001", &d), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 0.001, 1e-12);
	FAILS(parse_duration("", &d), EINVAL);
	FAILS(parse_duration("-1", &d), EINVAL);
	FAILS(parse_duration(".5", &d), EINVAL);
	FAILS(parse_duration("1.", &d), EINVAL);
	FAILS(parse_duration("1e3", &d), EINVAL);
	FAILS(parse_duration("inf", &d), EINVAL);
	FAILS(parse_duration("nan", &d), EINVAL);
	FAILS(parse_duration("0x10", &d), EINVAL);
	FAILS(parse_duration("5 s", &d), EINVAL);
	FAILS(parse_duration("5sec", &d), EINVAL);
	FAILS(parse_duration("5d", &d), EINVAL);
	FAILS(parse_duration("999999999999999", &d), ERANGE);
	FAILS(parse_duration("100000h", &d), ERANGE);
}

static void
test_mode(void)
{
	mode_t m;

	CU_ASSERT_EQUAL(parse_mode("600", &m), 0);
	CU_ASSERT_EQUAL(m, 0600);
	CU_ASSERT_EQUAL(parse_mode("0660", &m), 0);
	CU_ASSERT_EQUAL(m, 0660);
	CU_ASSERT_EQUAL(parse_mode("7777", &m), 0);
	CU_ASSERT_EQUAL(m, 07777);
	FAILS(parse_mode("10000", &m), ERANGE);
	FAILS(parse_mode("8", &m), EINVAL);
	FAILS(parse_mode("0689", &m), EINVAL);
	FAILS(parse_mode("", &m), EINVAL);
	FAILS(parse_mode("rw", &m), EINVAL);
	FAILS(parse_mode("-600", &m), EINVAL);
}

UNIT_MAIN("parse",
    { "uint64", test_uint64 },
    { "int64 and int", test_int64 },
    { "size", test_size },
    { "duration", test_duration },
    { "mode", test_mode })
