# libkvlds: the client library as a static and a shared library, with its
# public headers and a pkg-config file, for programs outside this tree.
#
#   $(B)/kvlds/libkvlds/libkvlds.a        every lib/ module, -fPIC objects
#   $(B)/kvlds/libkvlds/libkvlds.so.0     the same, shared (soname .so.0),
#                                         exporting only kvclient_* and
#                                         keyfile_* (libkvlds.map)
#   make install                          also installs, under DESTDIR:
#     $(LIBDIR)/libkvlds.a, libkvlds.so.0, libkvlds.so -> libkvlds.so.0
#     $(INCLUDEDIR)/kvlds/kvclient.h      the API (lib/kvclient/kvclient.h)
#     $(INCLUDEDIR)/kvlds/keyfile.h       key files for encrypted endpoints
#     $(PKGCONFIGDIR)/kvlds.pc            from kvlds.pc.in, with PREFIX
#
# The library holds every lib/ module (the client, its codec and framing,
# and the key-file and spiped layers the encrypted transport uses), built
# a second time as position-independent code under $(LIBKVLDS_DIR)/obj/.

LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig

LIBKVLDS_DIR	:= $(B)/kvlds/libkvlds
LIBKVLDS_A	:= $(LIBKVLDS_DIR)/libkvlds.a
LIBKVLDS_SO	:= $(LIBKVLDS_DIR)/libkvlds.so.0
LIBKVLDS_OBJS	:= $(patsubst %.c,$(LIBKVLDS_DIR)/obj/%.o,$(LIB_SRCS))
LIBKVLDS_HDRS	:= lib/kvclient/kvclient.h lib/keyfile/keyfile.h

.PHONY: libkvlds install-libkvlds
all: libkvlds
libkvlds: $(LIBKVLDS_A) $(LIBKVLDS_SO)

$(LIBKVLDS_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -fPIC -MMD -MP -c -o $@ $<

ifneq ($(filter x86_64 i386 i486 i586 i686,$(shell uname -m)),)
$(LIBKVLDS_DIR)/obj/lib/crc32c/crc32c_sse42.o: ALLCFLAGS += -msse4.2
endif

$(LIBKVLDS_A): $(LIBKVLDS_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBKVLDS_SO): $(LIBKVLDS_OBJS) kvlds/libkvlds/libkvlds.map
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -shared \
	    -Wl,-soname,libkvlds.so.0 \
	    -Wl,--version-script,kvlds/libkvlds/libkvlds.map \
	    -o $@ $(LIBKVLDS_OBJS) $(LDLIBS)

install: install-libkvlds
install-libkvlds: libkvlds
	install -D -m 0644 $(LIBKVLDS_A) $(DESTDIR)$(LIBDIR)/libkvlds.a
	install -D -m 0755 $(LIBKVLDS_SO) $(DESTDIR)$(LIBDIR)/libkvlds.so.0
	ln -sf libkvlds.so.0 $(DESTDIR)$(LIBDIR)/libkvlds.so
	for h in $(LIBKVLDS_HDRS); do \
	    install -D -m 0644 $$h \
	        $(DESTDIR)$(INCLUDEDIR)/kvlds/$$(basename $$h) || exit 1; \
	done
	mkdir -p $(DESTDIR)$(PKGCONFIGDIR)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' kvlds/libkvlds/kvlds.pc.in \
	    > $(DESTDIR)$(PKGCONFIGDIR)/kvlds.pc

.PHONY: clean-libkvlds
clean: clean-libkvlds
clean-libkvlds:
	rm -rf $(LIBKVLDS_DIR)/obj $(LIBKVLDS_A) $(LIBKVLDS_SO)
