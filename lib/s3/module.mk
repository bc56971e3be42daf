# lib/s3 uses libcurl.  Programs and tests that call s3_* functions other
# than the signer (s3sign.c, s3xml.c need only libcrypto) add -lcurl:
# LDLIBS_<program> += -lcurl.  The S3 test driver's rules live with it.
-include tests/s3/module.mk

# kvlds/libkvlds builds every lib/ module into libkvlds.so.0 as well; the
# client objects there refer to libcurl, so the shared library must name
# it or programs linking it fail.  (Better, later: leave lib/s3 out of
# libkvlds, which does not use it.)
$(B)/kvlds/libkvlds/libkvlds.so.0: LDLIBS += -lcurl
