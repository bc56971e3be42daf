# tests/module.mk: tools of the torture tests.
#   tests/faultinj/faultinj.c -> $(B)/tests/faultinj/faultinj.so, the
#	fault-injection preload library.  It is built without the sanitizer
#	flags: drivers that preload it into a sanitizer build put the
#	sanitizer runtime first in LD_PRELOAD.
#   tests/torture/kvsoak.c -> $(B)/tests/torture/kvsoak, the soak driver.

all: $(B)/tests/faultinj/faultinj.so $(B)/tests/torture/kvsoak

$(B)/tests/faultinj/faultinj.so: tests/faultinj/faultinj.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -fPIC -shared -o $@ $< -ldl -lpthread

$(B)/tests/torture/kvsoak: $(B)/tests/torture/kvsoak.o $(LIBSUITE)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
