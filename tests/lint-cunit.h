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

#define CU_assertImplementation(value, line, cond, file, fn, fatal)	\
	(((fatal) && !(value)) ? (abort(), CU_FALSE) :			\
	    CU_assertImplementation((value), (line), (cond), (file), (fn),	\
	    (fatal)))

#endif /* !LINT_CUNIT_H_ */
