# tests/module.mk: the fault-injection preload library of the torture
# tests (tests/faultinj/faultinj.c -> $(B)/tests/faultinj/faultinj.so).
# It is built without the sanitizer flags: scenarios that preload it into
# a sanitizer build put the sanitizer runtime first in LD_PRELOAD.

all: $(B)/tests/faultinj/faultinj.so

$(B)/tests/faultinj/faultinj.so: tests/faultinj/faultinj.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -fPIC -shared -o $@ $< -ldl -lpthread
