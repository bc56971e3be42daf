/*
 * lint-cunit.h: included first (-include) into every file that
 * tests/lint.sh analyses, never into a build.  CUnit's *_FATAL assertions
 * longjmp out of a failing test, which the static analyzer cannot see;
 * this wrapper makes a failed fatal assertion visibly not return, so that
 * code after CU_ASSERT_FATAL(p != NULL) is not reported as a possible
 * NULL dereference.
 */
#ifndef LINT_CUNIT_H_
#define LINT_CUNIT_H_

#include <stdlib.h>

#include <CUnit/CUnit.h>

/* Never returns when a fatal assertion fails; evaluates ${v} once. */
static inline CU_BOOL
lint_cu_assert(CU_BOOL v, unsigned int line, const char *cond,
    const char *file, const char *fn, CU_BOOL fatal)
{

	if (fatal && !v)
		abort();
	return (CU_assertImplementation(v, line, cond, file, fn, fatal));
}

#define CU_assertImplementation lint_cu_assert

#endif /* !LINT_CUNIT_H_ */
