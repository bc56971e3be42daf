#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"

#include "progress.h"

/* Width of the bar, between the brackets. */
#define BARW		24

/* Redraw interval, seconds. */
#define INTERVAL	0.1

struct progress {
	const char *verb;
	int enabled;
	int drawn;		/* A line is on the screen, not ended. */
	double start;
	double last;		/* Time of the last drawing. */
	double frac;
	uint64_t pairs;
	uint64_t bytes;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

/* Format ${x} bytes as "12.3 MiB" into ${buf}. */
static const char *
human(double x, char *buf, size_t buflen)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while ((x >= 1024) && (u + 1 < sizeof(units) / sizeof(units[0]))) {
		x /= 1024;
		u++;
	}
	snprintf(buf, buflen, (u == 0) ? "%.0f %s" : "%.1f %s", x, units[u]);
	return (buf);
}

/* Format ${s} seconds as "h:mm:ss" or "m:ss". */
static const char *
hms(double s, char *buf, size_t buflen)
{
	unsigned long t = (s > 0) ? (unsigned long)(s + 0.5) : 0;

	if (t >= 3600)
		snprintf(buf, buflen, "%lu:%02lu:%02lu", t / 3600,
		    (t / 60) % 60, t % 60);
	else
		snprintf(buf, buflen, "%lu:%02lu", t / 60, t % 60);
	return (buf);
}

static void
draw(struct progress *P, double t, int final)
{
	char line[256], bar[BARW + 1], b1[32], b2[32], b3[32];
	double el = t - P->start;
	double rate = (el > 0) ? (double)P->bytes / el : 0;
	size_t n, i;
	int len;

	if (P->frac >= 0) {
		n = (size_t)(P->frac * BARW + 0.5);
		if (n > BARW)
			n = BARW;
		for (i = 0; i < BARW; i++)
			bar[i] = (i < n) ? '#' : '.';
		bar[BARW] = '\0';
		len = snprintf(line, sizeof(line), "\r%s %3.0f%% [%s] ",
		    P->verb, P->frac * 100, bar);
	} else {
		len = snprintf(line, sizeof(line), "\r%s ", P->verb);
	}
	if (len < 0)
		return;
	len += snprintf(line + len, sizeof(line) - (size_t)len,
	    "%ju pairs  %s  %s/s", (uintmax_t)P->pairs,
	    human((double)P->bytes, b1, sizeof(b1)),
	    human(rate, b2, sizeof(b2)));
	if (final)
		len += snprintf(line + len, sizeof(line) - (size_t)len,
		    "  in %s\033[K\n", hms(el, b3, sizeof(b3)));
	else if ((P->frac > 0.001) && (el > 0.5))
		len += snprintf(line + len, sizeof(line) - (size_t)len,
		    "  ETA %s\033[K", hms(el * (1 - P->frac) / P->frac, b3,
		    sizeof(b3)));
	else
		len += snprintf(line + len, sizeof(line) - (size_t)len,
		    "\033[K");
	if ((len > 0) && ((size_t)len < sizeof(line))) {
		/* One write per line: nothing to do if the terminal fails. */
		if (write(2, line, (size_t)len) < 0)
			P->enabled = 0;
	}
	P->drawn = !final;
	P->last = t;
}

const char progress_usage[] =
    "  -q, --quiet        no progress bar\n"
    "  -p, --progress     progress bar even if stderr is not a terminal\n";

/**
 * progress_default():
 * Draw the bar if standard error is a terminal.
 */
int
progress_default(void)
{

	return (isatty(2));
}

/**
 * progress_getopt(bar, ch):
 * Take -q and -p.
 */
int
progress_getopt(int *bar, int ch)
{

	switch (ch) {
	case 'q':
		*bar = 0;
		return (1);
	case 'p':
		*bar = 1;
		return (1);
	default:
		return (0);
	}
}

/**
 * progress_new(verb, enabled):
 * Start a progress bar labelled ${verb}, drawn only if ${enabled}.
 */
struct progress *
progress_new(const char *verb, int enabled)
{
	struct progress *P;

	if ((P = calloc(1, sizeof(*P))) == NULL) {
		warnp("calloc");
		return (NULL);
	}
	P->verb = verb;
	P->enabled = enabled;
	P->start = P->last = now();
	P->frac = -1;
	return (P);
}

/**
 * progress_update(P, frac, pairs, bytes):
 * Record progress; redraw at most every 100 ms.
 */
void
progress_update(struct progress *P, double frac, uint64_t pairs,
    uint64_t bytes)
{
	double t;

	P->frac = (frac > 1) ? 1 : frac;
	P->pairs = pairs;
	P->bytes = bytes;
	if (!P->enabled)
		return;
	if ((t = now()) - P->last >= INTERVAL)
		draw(P, t, 0);
}

/**
 * progress_end(P):
 * Draw the final state and end the line.
 */
void
progress_end(struct progress *P)
{

	if (!P->enabled)
		return;
	if (P->frac >= 0)
		P->frac = 1;
	draw(P, now(), 1);
}

/**
 * progress_free(P):
 * Free ${P}, ending its line if needed.  NULL is a no-op.
 */
void
progress_free(struct progress *P)
{

	if (P == NULL)
		return;
	if (P->enabled && P->drawn && (write(2, "\n", 1) < 0))
		P->enabled = 0;
	free(P);
}
