/*
 * scrypt cost parameters: this machine's speed, estimates, and choosing
 * N, r, p for a time and memory budget the way scrypt(1) enc does.
 *
 * Work is counted as scrypt(1) counts it: 4 * N * r * p salsa20/8 block
 * operations; memory as 128 * r * N bytes.
 */
#include <stdint.h>
#include <time.h>

#include <libscrypt.h>

#include "keyfile.h"
#include "keyfile_priv.h"

/* Measured speed in operations per second; 0 until measured. */
static double speed_opps;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/**
 * keyfile_params_memory(params):
 * The memory scrypt needs for ${params}: 128 * r * N bytes (saturating).
 */
uint64_t
keyfile_params_memory(const struct keyfile_params *params)
{
	uint64_t rn;

	if (params->logN >= 64)
		return (UINT64_MAX);
	/* 128 * r < 2^39; shifting it by logN must stay below 2^64. */
	rn = (uint64_t)128 * params->r;
	if (params->logN > 0 && rn > (UINT64_MAX >> params->logN))
		return (UINT64_MAX);
	return (rn << params->logN);
}

/**
 * keyfile_params_ops(params):
 * The work of ${params}: 4 * N * r * p (saturating).
 */
uint64_t
keyfile_params_ops(const struct keyfile_params *params)
{
	uint64_t rp;

	if (params->logN >= 64)
		return (UINT64_MAX);
	/* r, p < 2^32, so r * p fits; the factor 4 might not. */
	rp = (uint64_t)params->r * params->p;
	if (rp > UINT64_MAX / 4)
		return (UINT64_MAX);
	rp *= 4;
	if (params->logN > 0 && rp > (UINT64_MAX >> params->logN))
		return (UINT64_MAX);
	return (rp << params->logN);
}

/**
 * keyfile_params_speed(opps):
 * Set *${opps} to this machine's scrypt speed in operations per second,
 * measured on the first call and remembered.  Returns 0 or -1.
 */
int
keyfile_params_speed(double *opps)
{
	static const uint8_t pass[8] = "measure", salt[8] = "salt";
	uint8_t out[16];
	double t0, t, best;
	int i;

	if (speed_opps > 0) {
		*opps = speed_opps;
		return (0);
	}

	/*
	 * Time scrypt with N = 2^12, r = 8, p = 1 (131072 operations, 4
	 * MiB).  libscrypt allocates its work area afresh on every call, and
	 * from 2 MiB up glibc maps it anew each time: the page faults of a
	 * real key's scrypt cost as much as the hashing, and a smaller
	 * measurement (served from reused, cached memory) would be two or
	 * three times too optimistic.  Keep the fastest of two runs: the
	 * machine may be shared, and interference only slows a run down.
	 */
	best = 0;
	for (i = 0; i < 2; i++) {
		t0 = now();
		if (libscrypt_scrypt(pass, sizeof(pass), salt, sizeof(salt),
		    4096, 8, 1, out, sizeof(out))) {
			keyfile_warnx("scrypt failed while measuring speed");
			return (-1);
		}
		t = now() - t0;
		if (best == 0 || t < best)
			best = t;
	}
	if (best < 1e-6)
		best = 1e-6;
	speed_opps = 131072.0 / best;
	*opps = speed_opps;
	return (0);
}

/**
 * keyfile_params_time(params, seconds):
 * Set *${seconds} to the estimated scrypt time for ${params} on this
 * machine.  Returns 0 or -1.
 */
int
keyfile_params_time(const struct keyfile_params *params, double *seconds)
{
	double opps;

	if (keyfile_params_speed(&opps))
		return (-1);
	*seconds = (double)keyfile_params_ops(params) / opps;
	return (0);
}

/**
 * keyfile_params_pick(target_time, target_memory, params):
 * Choose ${params} as scrypt(1) enc does for -t ${target_time} and
 * -M ${target_memory}.  Returns 0 or -1.
 */
int
keyfile_params_pick(double target_time, uint64_t target_memory,
    struct keyfile_params *params)
{
	double opps, dops;
	uint64_t ops, maxN, maxrp;
	int logN;

	if (keyfile_params_speed(&opps))
		return (-1);
	if (target_memory < (1 << 20))
		target_memory = 1 << 20;
	dops = opps * target_time;
	ops = (dops >= 1.8e19) ? UINT64_MAX : (uint64_t)dops;
	if (ops < (1 << 15))
		ops = 1 << 15;

	params->r = 8;
	/*
	 * Memory allows N <= memory / (128 r), time N * p <= ops / (4 r).
	 * When ops / 4 < memory / 128 time is the binding limit: p = 1
	 * and N as large as time allows.  Otherwise N as large as memory
	 * allows, then p takes up the remaining time.
	 */
	if (ops < target_memory / 32) {
		params->p = 1;
		maxN = ops / ((uint64_t)params->r * 4);
	} else {
		maxN = target_memory / ((uint64_t)params->r * 128);
	}
	/* The largest power of two not above maxN (at least 2). */
	for (logN = 1; logN < 62 && ((uint64_t)1 << (logN + 1)) <= maxN;
	    logN++)
		continue;
	params->logN = logN;
	if (!(ops < target_memory / 32)) {
		maxrp = (ops / 4) >> logN;
		if (maxrp > 0x3fffffff)
			maxrp = 0x3fffffff;
		params->p = (uint32_t)(maxrp / params->r);
		if (params->p == 0)
			params->p = 1;
	}
	return (0);
}
