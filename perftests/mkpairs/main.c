/*
 * mkpairs N: write the first N pairs of the benchmark pair stream
 * (lib/kvbench) to standard output, key0 value0 key1 value1 ..., sorted
 * by key; 80 bytes per pair.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kvbench/kvbench.h"
#include "log/log.h"

int
main(int argc, char *argv[])
{
	struct kvbench_opts o;
	uint8_t *blk;
	uint64_t x, i;
	size_t ny;

	static const struct kvbench_cmdline cl = { "N > pairs",
	    KVBENCH_ARGS_N, 0, 0, 0, 0, NULL };

	kvbench_getopts(argc, argv, &o, &cl);
	if ((blk = malloc(KVBENCH_BLOCK * KVBENCH_PAIRLEN)) == NULL) {
		warnp("malloc");
		exit(1);
	}
	for (x = 0, i = 0; i < o.n; x++) {
		ny = (o.n - i > KVBENCH_BLOCK) ? KVBENCH_BLOCK :
		    (size_t)(o.n - i);
		kvbench_block(x, ny, blk);
		if (fwrite(blk, KVBENCH_PAIRLEN, ny, stdout) != ny) {
			warnp("write");
			exit(1);
		}
		i += ny;
	}
	if (fflush(stdout)) {
		warnp("write");
		exit(1);
	}
	free(blk);
	return (0);
}
