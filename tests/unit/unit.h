#ifndef UNIT_H_
#define UNIT_H_

/*
 * Tiny glue over CUnit: every tests/unit/test_*.c ends with
 *
 *	UNIT_MAIN("module", { "case name", test_fn }, ...)
 *
 * which registers the cases in one suite, runs them with CUnit's basic
 * runner, prints "UNIT module: N passed, M failed" for tests/run.sh and
 * exits non-zero if any case failed.
 *
 * unit_unhex(hex, out): decode the hex string ${hex} (an even number of
 * digits) into ${out}, which must hold strlen(hex) / 2 bytes, and return
 * that number; a pair that is not hex fails the test (fatal assertion).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

static inline int
unit_run(const char *suite, const struct unit_test *t, size_t n)
{
	CU_pSuite s;
	unsigned int run, failed;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return (2);
	if ((s = CU_add_suite(suite, NULL, NULL)) == NULL)
		return (2);
	for (i = 0; i < n; i++)
		if (CU_add_test(s, t[i].name, t[i].fn) == NULL)
			return (2);
	CU_basic_set_mode(getenv("UNIT_VERBOSE") ? CU_BRM_VERBOSE :
	    CU_BRM_NORMAL);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	printf("\nUNIT %s: %u passed, %u failed\n", suite, run - failed,
	    failed);
	return (failed ? 1 : 0);
}

static inline size_t
unit_unhex(const char *hex, uint8_t *out)
{
	size_t i, n = strlen(hex) / 2;
	unsigned int b;

	for (i = 0; i < n; i++) {
		CU_ASSERT_FATAL(sscanf(&hex[2 * i], "%2x", &b) == 1);
		out[i] = (uint8_t)b;
	}
	return (n);
}

#define UNIT_MAIN(suite, ...)						\
int									\
main(void)								\
{									\
	static const struct unit_test unit_tests_[] = { __VA_ARGS__ };	\
									\
	return (unit_run(suite, unit_tests_,				\
	    sizeof(unit_tests_) / sizeof(unit_tests_[0])));		\
}

#endif /* !UNIT_H_ */
