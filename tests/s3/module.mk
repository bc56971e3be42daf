# tests/s3/module.mk (included from lib/s3/module.mk): the S3 test driver.
#   tests/s3/s3check.c -> $(B)/tests/s3/s3check, linked with libcurl.

all: $(B)/tests/s3/s3check

$(B)/tests/s3/s3check: $(B)/tests/s3/s3check.o $(LIBSUITE)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $^ -lcurl $(LDLIBS)
