/*
 * lint-shim.h: included first (-include) into every file that
 * tests/lint.sh analyses, never into a build.  CUnit's *_FATAL assertions
 * longjmp out of a failing test, which the static analyzer cannot see;
 * this wrapper makes a failed fatal assertion visibly not return, so that
 * code after CU_ASSERT_FATAL(p != NULL) is not reported as a possible
 * NULL dereference.
 *
 * Likewise getopt(3) sets optarg to a string for every option declared
 * with an argument, which the analyzer does not know: reading optarg
 * through lint_optarg() tells it that the value is not NULL.
 */
#ifndef LINT_SHIM_H_
#define LINT_SHIM_H_

#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

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

/* optarg is never NULL for the options that read it. */
static inline char *
lint_optarg(void)
{

	if (optarg == NULL)
		abort();
	return (optarg);
}

#define optarg (lint_optarg())

#endif /* !LINT_SHIM_H_ */
