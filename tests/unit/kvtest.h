#ifndef KVTEST_H_
#define KVTEST_H_

/*
 * kvtest: set-up shared by the unit tests of the kvlds engine
 * (test_btree.c, test_btree_io.c, test_snapshot.c): a scratch data
 * directory, a store opened on it, a whole commit.  Static inline, like
 * unit.h, so that each test binary stays one source file.
 *
 * kvtest_rmtree(dir): remove ${dir} and the files in it (one level: a
 * data directory holds no subdirectories).  Errors are ignored.
 *
 * kvtest_newdir(dir, name): remove the directory named in ${dir} (a
 * KVTEST_DIRLEN buffer) if it is not empty, create a fresh
 * /tmp/${name}.XXXXXX and write its path into ${dir}; return ${dir}.
 * Exit 2 if it cannot be created.
 *
 * kvtest_open(dir, pagesize, cachebytes, costratio): btree_open() on
 * ${dir} with those options and every other one zero (the defaults).
 *
 * kvtest_commit(bt): btree_commit_begin, _write and _end; 0, or -1 if
 * a step failed (the batch is then still pending).
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvlds/btree.h"

#define KVTEST_DIRLEN	64

static inline void
kvtest_rmtree(const char *dir)
{
	DIR *d;
	struct dirent *de;
	char p[512];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static inline const char *
kvtest_newdir(char dir[KVTEST_DIRLEN], const char *name)
{

	if (dir[0] != '\0')
		kvtest_rmtree(dir);
	snprintf(dir, KVTEST_DIRLEN, "/tmp/%s.XXXXXX", name);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	return (dir);
}

static inline struct btree *
kvtest_open(const char *dir, size_t pagesize, size_t cachebytes,
    double costratio)
{
	struct btree_opts o;

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.pagesize = pagesize;
	o.cachebytes = cachebytes;
	o.costratio = costratio;
	return (btree_open(&o));
}

static inline int
kvtest_commit(struct btree *bt)
{

	if (btree_commit_begin(bt))
		return (-1);
	if (btree_commit_write(bt))
		return (-1);
	btree_commit_end(bt);
	return (0);
}

#endif /* !KVTEST_H_ */
