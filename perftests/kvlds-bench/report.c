#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvbench/kvbench.h"
#include "kvbench/kvbench_hist.h"
#include "log/log.h"

#include "bench.h"

static const char * const distname[] = {
	"uniform", "sequential", "hotspot", "zipf"
};

static double
ms(uint64_t ns)
{

	return ((double)ns / 1e6);
}

static uint64_t
sum(const uint64_t *v)
{
	uint64_t s = 0;
	int t;

	for (t = 0; t < BT_NTYPES; t++)
		s += v[t];
	return (s);
}

/* Median of the per-second request counts after the warm-up. */
static uint64_t
median_rate(const struct bench_result *res)
{
	uint64_t *v, m;
	size_t i, n = 0;

	if ((v = malloc((res->nsecs + 1) * sizeof(*v))) == NULL)
		return (0);
	for (i = 0; i < res->nsecs; i++)
		if (!res->secs[i].warmup)
			v[n++] = res->secs[i].requests;
	m = kvbench_median(v, n);
	free(v);
	return (m);
}

static void
mixstr(const struct bench_conf *cf, char *buf, size_t len)
{
	size_t o = 0;
	int t;

	buf[0] = '\0';
	for (t = 0; t < BT_NTYPES; t++) {
		if (cf->mix[t] == 0)
			continue;
		o += (size_t)snprintf(buf + o, (o < len) ? len - o : 0,
		    "%s%s=%u", o ? "," : "", bench_type_name[t], cf->mix[t]);
	}
}

static void
line(const char *name, uint64_t ok, uint64_t no, uint64_t err,
    const struct kvbench_hist *h)
{

	printf("%-8s %11ju %11ju %9ju %7ju %9.3f %9.3f %9.3f %9.3f %9.3f\n",
	    name, (uintmax_t)h->count, (uintmax_t)ok, (uintmax_t)no,
	    (uintmax_t)err, ms(kvbench_hist_quantile(h, 0.5)),
	    ms(kvbench_hist_quantile(h, 0.9)),
	    ms(kvbench_hist_quantile(h, 0.99)),
	    ms(kvbench_hist_quantile(h, 0.999)), ms(h->count ? h->max : 0));
}

/**
 * report_summary(conf, res):
 * Print the summary table of ${res} on standard output.
 */
void
report_summary(const struct bench_conf *cf, const struct bench_result *res)
{
	char mix[256];
	int t;

	mixstr(cf, mix, sizeof(mix));
	printf("kvlds-bench: %s, %zu connection%s x %zu in flight, ",
	    cf->target, cf->conns, cf->conns == 1 ? "" : "s", cf->inflight);
	if (cf->rate > 0)
		printf("open loop at %.0f requests/s\n", cf->rate);
	else
		printf("closed loop\n");
	printf("mix %s; %s keys over %ju (%zu-byte keys, %zu-byte values)\n",
	    mix, distname[cf->dist], (uintmax_t)cf->nkeys,
	    cf->stream ? (size_t)KVBENCH_KEYLEN : cf->keysize,
	    cf->stream ? (size_t)KVBENCH_VALLEN : cf->valsize);
	printf("%-8s %11s %11s %9s %7s %9s %9s %9s %9s %9s\n", "type",
	    "requests", "ok", "no", "errors", "p50 ms", "p90 ms", "p99 ms",
	    "p99.9 ms", "max ms");
	for (t = 0; t < BT_NTYPES; t++)
		if (cf->mix[t] > 0)
			line(bench_type_name[t], res->ok[t], res->no[t],
			    res->errors[t], &res->type[t]);
	line("all", sum(res->ok), sum(res->no), sum(res->errors), &res->all);
	printf("throughput: %.0f requests/s over %.2f s", res->seconds > 0 ?
	    (double)res->all.count / res->seconds : 0.0, res->seconds);
	if (median_rate(res) > 0)
		printf(" (median of seconds %ju/s)",
		    (uintmax_t)median_rate(res));
	printf("%s\n", res->unanswered ? " -- some requests never answered" :
	    "");
	if (res->unanswered)
		printf("unanswered after the drain period: %ju\n",
		    (uintmax_t)res->unanswered);
}

/* Write the series and histogram blocks, comma-separated. */
static void
csv_blocks(FILE *f, const struct bench_result *res)
{
	uint64_t cum = 0;
	size_t i;

	fprintf(f, "second,requests,errors,p50_ms,p99_ms,max_ms,warmup\n");
	for (i = 0; i < res->nsecs; i++)
		fprintf(f, "%zu,%ju,%ju,%.6f,%.6f,%.6f,%d\n", i + 1,
		    (uintmax_t)res->secs[i].requests,
		    (uintmax_t)res->secs[i].errors, ms(res->secs[i].p50),
		    ms(res->secs[i].p99), ms(res->secs[i].max),
		    res->secs[i].warmup);
	fprintf(f, "\n\nlower_ms,upper_ms,count,cumulative\n");
	for (i = 0; i < KVBENCH_HIST_NBUCKETS; i++) {
		if (res->all.b[i] == 0)
			continue;
		cum += res->all.b[i];
		fprintf(f, "%.6f,%.6f,%ju,%.9f\n",
		    ms(kvbench_hist_lower(i)), ms(kvbench_hist_upper(i)),
		    (uintmax_t)res->all.b[i],
		    (double)cum / (double)res->all.count);
	}
}

/**
 * report_csv(conf, res, path):
 * Write the per-second series and the histogram of ${res} to ${path}.
 */
int
report_csv(const struct bench_conf *cf, const struct bench_result *res,
    const char *path)
{
	FILE *f;

	(void)cf;
	if ((f = fopen(path, "w")) == NULL) {
		warnp("%s", path);
		return (-1);
	}
	csv_blocks(f, res);
	if (fclose(f)) {
		warnp("%s", path);
		return (-1);
	}
	return (0);
}

/**
 * report_json(conf, res, path):
 * Write configuration, summary, series and histogram of ${res} as JSON.
 */
int
report_json(const struct bench_conf *cf, const struct bench_result *res,
    const char *path)
{
	const struct kvbench_hist *h = &res->all;
	char mix[256];
	FILE *f;
	size_t i;
	int t, first;

	if ((f = fopen(path, "w")) == NULL) {
		warnp("%s", path);
		return (-1);
	}
	mixstr(cf, mix, sizeof(mix));
	fprintf(f, "{\n  \"config\": {\"target\": \"");
	for (i = 0; cf->target[i]; i++) {
		if (cf->target[i] == '"' || cf->target[i] == '\\')
			fputc('\\', f);
		if ((unsigned char)cf->target[i] >= 0x20)
			fputc(cf->target[i], f);
	}
	fprintf(f, "\", \"mix\": \"%s\", \"distribution\": \"%s\", "
	    "\"keys\": %ju, \"key_size\": %zu, \"value_size\": %zu, "
	    "\"connections\": %zu, \"inflight\": %zu, \"rate\": %.3f, "
	    "\"duration\": %.3f, \"requests\": %ju, \"warmup\": %.3f},\n",
	    mix, distname[cf->dist], (uintmax_t)cf->nkeys,
	    cf->stream ? (size_t)KVBENCH_KEYLEN : cf->keysize,
	    cf->stream ? (size_t)KVBENCH_VALLEN : cf->valsize, cf->conns,
	    cf->inflight, cf->rate, cf->duration, (uintmax_t)cf->requests,
	    cf->warmup);
	fprintf(f, "  \"summary\": {\"seconds\": %.6f, \"requests\": %ju, "
	    "\"errors\": %ju, \"unanswered\": %ju, \"throughput\": %.3f, "
	    "\"latency_ms\": {\"p50\": %.6f, \"p90\": %.6f, \"p99\": %.6f, "
	    "\"p999\": %.6f, \"max\": %.6f, \"mean\": %.6f}, \"types\": {",
	    res->seconds, (uintmax_t)h->count, (uintmax_t)sum(res->errors),
	    (uintmax_t)res->unanswered, res->seconds > 0 ?
	    (double)h->count / res->seconds : 0.0,
	    ms(kvbench_hist_quantile(h, 0.5)),
	    ms(kvbench_hist_quantile(h, 0.9)),
	    ms(kvbench_hist_quantile(h, 0.99)),
	    ms(kvbench_hist_quantile(h, 0.999)), ms(h->count ? h->max : 0),
	    h->count ? h->sum / (double)h->count / 1e6 : 0.0);
	for (t = 0, first = 1; t < BT_NTYPES; t++) {
		if (cf->mix[t] == 0)
			continue;
		fprintf(f, "%s\"%s\": {\"ok\": %ju, \"no\": %ju, \"errors\": "
		    "%ju, \"p50_ms\": %.6f, \"p99_ms\": %.6f, \"max_ms\": "
		    "%.6f}", first ? "" : ", ", bench_type_name[t],
		    (uintmax_t)res->ok[t], (uintmax_t)res->no[t],
		    (uintmax_t)res->errors[t],
		    ms(kvbench_hist_quantile(&res->type[t], 0.5)),
		    ms(kvbench_hist_quantile(&res->type[t], 0.99)),
		    ms(res->type[t].count ? res->type[t].max : 0));
		first = 0;
	}
	fprintf(f, "}},\n  \"series\": [");
	for (i = 0; i < res->nsecs; i++)
		fprintf(f, "%s\n    {\"second\": %zu, \"requests\": %ju, "
		    "\"errors\": %ju, \"p50_ms\": %.6f, \"p99_ms\": %.6f, "
		    "\"max_ms\": %.6f, \"warmup\": %s}", i ? "," : "", i + 1,
		    (uintmax_t)res->secs[i].requests,
		    (uintmax_t)res->secs[i].errors, ms(res->secs[i].p50),
		    ms(res->secs[i].p99), ms(res->secs[i].max),
		    res->secs[i].warmup ? "true" : "false");
	fprintf(f, "\n  ],\n  \"histogram\": [");
	for (i = 0, first = 1; i < KVBENCH_HIST_NBUCKETS; i++) {
		if (h->b[i] == 0)
			continue;
		fprintf(f, "%s\n    {\"lower_ns\": %ju, \"upper_ns\": %ju, "
		    "\"count\": %ju}", first ? "" : ",",
		    (uintmax_t)kvbench_hist_lower(i),
		    (uintmax_t)kvbench_hist_upper(i), (uintmax_t)h->b[i]);
		first = 0;
	}
	fprintf(f, "\n  ]\n}\n");
	if (fclose(f)) {
		warnp("%s", path);
		return (-1);
	}
	return (0);
}

/**
 * report_plot(conf, res, path):
 * Draw throughput and p99 over time, and the latency distribution, into
 * ${path} with gnuplot.
 */
int
report_plot(const struct bench_conf *cf, const struct bench_result *res,
    const char *path)
{
	char data[] = "/tmp/kvlds-bench-data.XXXXXX";
	char script[] = "/tmp/kvlds-bench-plot.XXXXXX";
	const char *term, *ext = strrchr(path, '.');
	char mix[256];
	FILE *f;
	pid_t pid;
	int fd, st, rc = -1;
	size_t i;

	if (ext && strcmp(ext, ".svg") == 0)
		term = "svg size 1000,800 dynamic";
	else if (ext && strcmp(ext, ".png") == 0)
		term = "pngcairo size 1000,800";
	else {
		warn0("--plot %s: the file name must end in .png or .svg",
		    path);
		return (-1);
	}
	if ((fd = mkstemp(data)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		warnp("mkstemp");
		return (-1);
	}
	csv_blocks(f, res);
	fclose(f);
	if ((fd = mkstemp(script)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		warnp("mkstemp");
		goto err0;
	}
	mixstr(cf, mix, sizeof(mix));
	fprintf(f, "set terminal %s\nset output '", term);
	for (i = 0; path[i]; i++) {
		if (path[i] == '\'')
			fputc('\'', f);
		fputc(path[i], f);
	}
	fprintf(f, "'\nset datafile separator ','\n"
	    "set multiplot layout 2,1 title \"kvlds-bench: %s, %zu x %zu, "
	    "%s, mix %s\" noenhanced\n"
	    "set grid\nset key top left\n"
	    "set xlabel 'time (s)'\nset ylabel 'requests/s'\n"
	    "set y2label 'p99 latency (ms)'\nset ytics nomirror\n"
	    "set y2tics\nset yrange [0:*]\nset y2range [0:*]\n"
	    "plot '%s' index 0 every ::1 using 1:2 with linespoints "
	    "title 'requests/s' axes x1y1, "
	    "'' index 0 every ::1 using 1:5 with linespoints "
	    "title 'p99 of the second (ms)' axes x1y2\n"
	    "unset y2label\nunset y2tics\nset ytics mirror\n"
	    "set logscale x\nset xlabel 'latency (ms)'\n"
	    "set ylabel 'fraction of requests at or below'\n"
	    "set yrange [0:1]\n"
	    "plot '%s' index 1 every ::1 using 2:4 with steps "
	    "title 'latency distribution'\n"
	    "unset multiplot\n", cf->rate > 0 ? "open loop" : "closed loop",
	    cf->conns, cf->inflight, distname[cf->dist], mix, data, data);
	fclose(f);
	if ((pid = fork()) == -1) {
		warnp("fork");
		goto err1;
	}
	if (pid == 0) {
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		warnp("gnuplot");
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1) {
		warnp("waitpid");
		goto err1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		warn0("gnuplot failed drawing %s", path);
		goto err1;
	}
	rc = 0;
err1:
	unlink(script);
err0:
	unlink(data);
	return (rc);
}
