# kvlds/module.mk: the object-store page store (pagestore_s3.c) calls the
# S3 client (lib/s3), which uses libcurl.  Everything that links the kvlds
# module archive needs it: the daemon, the unit tests, enginebench (whose
# own module.mk, read later, lists the archives again: a target-specific
# append puts -lcurl after them).
LDLIBS_kvlds += -lcurl
LDLIBS_unit += -lcurl
$(B)/perftests/enginebench/enginebench: LDLIBS_enginebench += -lcurl
