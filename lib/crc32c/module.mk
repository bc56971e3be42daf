# The SSE4.2 CRC32C path is compiled for SSE4.2 (its functions also carry
# target attributes, so that tools compiling it without this flag work);
# it only runs after a run-time CPU check.
ifneq ($(filter x86_64 i386 i486 i586 i686,$(shell uname -m)),)
$(B)/lib/crc32c/crc32c_sse42.o: ALLCFLAGS += -msse4.2
endif
