/*
 * Unit tests for lib/log: message format, errno handling, verbosity and
 * the rate limiter.  Standard error is redirected to a temporary file
 * whose contents each case inspects.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"

#include "unit.h"

static int saved_stderr = -1;
static char capfile[] = "/tmp/test_log.XXXXXX";

/* Start capturing standard error into a fresh temporary file. */
static void
cap_start(void)
{
	int fd;

	CU_ASSERT_FATAL((fd = mkstemp(capfile)) != -1);
	saved_stderr = dup(STDERR_FILENO);
	CU_ASSERT_FATAL(saved_stderr != -1);
	CU_ASSERT_FATAL(dup2(fd, STDERR_FILENO) != -1);
	close(fd);
}

/* Stop capturing; return what was written (caller frees). */
static char *
cap_end(void)
{
	static char buf[65536];
	FILE *f;
	size_t n;

	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	f = fopen(capfile, "r");
	CU_ASSERT_FATAL(f != NULL);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(capfile);
	strcpy(capfile, "/tmp/test_log.XXXXXX");
	return (strdup(buf));
}

/* Count occurrences of ${needle} in ${hay}. */
static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return (n);
}

static void
test_format(void)
{
	char *out;

	log_init("/usr/local/bin/testprog");
	cap_start();
	warn0("plain %d", 42);
	errno = ENOENT;
	warnp("open %s", "foo");
	CU_ASSERT_EQUAL(errno, ENOENT);
	log_info("info line");
	out = cap_end();
	CU_ASSERT_STRING_EQUAL(out, "testprog: plain 42\n"
	    "testprog: open foo: No such file or directory\n"
	    "testprog: info line\n");
	free(out);
}

static void
test_long_line(void)
{
	char big[5000];
	char *out;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cap_start();
	warn0("%s", big);
	out = cap_end();
	/* Truncated, but still one line ending in a newline. */
	CU_ASSERT(strlen(out) > 1000);
	CU_ASSERT_EQUAL(count(out, "\n"), 1);
	CU_ASSERT_EQUAL(out[strlen(out) - 1], '\n');
	CU_ASSERT_EQUAL(strncmp(out, "testprog: xxx", 13), 0);
	free(out);
}

static void
test_debug(void)
{
	char *out;

	CU_ASSERT_EQUAL(log_verbosity(), 0);
	cap_start();
	log_debug("hidden");
	log_set_verbosity(1);
	CU_ASSERT_EQUAL(log_verbosity(), 1);
	log_debug("shown %s", "now");
	log_set_verbosity(0);
	log_debug("hidden again");
	out = cap_end();
	CU_ASSERT_STRING_EQUAL(out, "testprog: shown now\n");
	free(out);
}

/* Busy-wait until the monotonic clock enters a new second. */
static void
next_second(void)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		usleep(1000);
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while (b.tv_sec == a.tv_sec);
}

static void
test_ratelimit(void)
{
	uint64_t before;
	char *out;
	int i;

	log_ratelimit_set(3);
	before = log_ratelimit_suppressed();
	cap_start();
	next_second();
	for (i = 0; i < 10; i++) {
		errno = EPIPE;
		log_ratelimitedp("conn %d", i);
		CU_ASSERT_EQUAL(errno, EPIPE);
	}
	CU_ASSERT_EQUAL(log_ratelimit_suppressed() - before, 7);
	next_second();
	log_ratelimited("later");
	out = cap_end();
	CU_ASSERT_STRING_EQUAL(out, "testprog: conn 0: Broken pipe\n"
	    "testprog: conn 1: Broken pipe\n"
	    "testprog: conn 2: Broken pipe\n"
	    "testprog: 7 similar messages suppressed\n"
	    "testprog: later\n");
	free(out);

	/* Limit 0: everything is counted, nothing printed. */
	log_ratelimit_set(0);
	cap_start();
	log_ratelimited("never");
	out = cap_end();
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(log_ratelimit_suppressed() - before, 8);
	free(out);
	log_ratelimit_set(10);
}

static void
test_syslog_switch(void)
{
	char *out;

	/* Messages to syslog must not reach standard error. */
	cap_start();
	log_syslog(1);
	log_debug("not even formatted");
	log_syslog(0);
	warn0("back on stderr");
	out = cap_end();
	CU_ASSERT_STRING_EQUAL(out, "testprog: back on stderr\n");
	free(out);
}

UNIT_MAIN("log",
    { "format and errno", test_format },
    { "long line", test_long_line },
    { "debug verbosity", test_debug },
    { "rate limit", test_ratelimit },
    { "syslog switch", test_syslog_switch })
