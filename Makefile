# Top-level GNU Makefile for the kvlds / spiped suite.
#
# Layout conventions (so that adding a module never means editing this file):
#   lib/<module>/*.c          -> lib/libsuite.a (shared by every program)
#   <prog dir>/main.c         -> a program named after its directory
#                                (kvlds/kvlds, spiped/spiped,
#                                 spiped/spiped-keygen/spiped-keygen,
#                                 perftests/random_read/random_read, ...)
#   <prog dir>/*.c but main.c -> <prog dir>/<name>-objs.a, linked into the
#                                program and into the unit tests
#   tests/unit/test_*.c       -> one CUnit binary each
#   */module.mk               -> optional per-directory extras (per-file
#                                flags, extra link libraries)
#
# B is the build root: "." puts objects and programs beside their sources
# (so scripts find kvlds/kvlds without installing); `make sanitize` builds
# the same tree under build/sanitize with ASan+UBSan.

B	?= .
CC	?= cc
OPT	?= -O2
CFLAGS	?= $(OPT) -g
WARN	:= -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS += -std=c11 -D_GNU_SOURCE -Ilib -I.
LDLIBS	+= -levent_pthreads -levent -lscrypt -lcrypto -lpthread -lm
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man

ALLCFLAGS = $(CPPFLAGS) $(WARN) $(CFLAGS) $(EXTRA_CFLAGS)

# ---------------------------------------------------------------- sources
LIB_SRCS := $(sort $(wildcard lib/*/*.c))
MAINS	 := $(sort $(wildcard kvlds/main.c spiped/main.c spipe/main.c \
		kvlds/*/main.c spiped/*/main.c spipe/*/main.c \
		perftests/*/main.c))
PROGDIRS := $(patsubst %/main.c,%,$(MAINS))
progname  = $(1)/$(notdir $(1))
PROGS	 := $(foreach d,$(PROGDIRS),$(call progname,$(d)))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNITS	 := $(patsubst %.c,$(B)/%,$(UNIT_SRCS))

LIBSUITE := $(B)/lib/libsuite.a
obj	  = $(patsubst %.c,$(B)/%.o,$(1))
dirsrcs	  = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
progarch  = $(B)/$(1)/$(notdir $(1))-objs.a
PROGARCHS := $(foreach d,$(PROGDIRS),$(call progarch,$(d)))

-include $(wildcard lib/*/module.mk kvlds/module.mk kvlds/*/module.mk \
	spiped/module.mk spiped/*/module.mk spipe/module.mk \
	perftests/module.mk perftests/*/module.mk tests/module.mk)

.PHONY: all deps test unit integration sanitize valgrind lint install \
	clean run bench bench-full fuzz torture
all: deps $(addprefix $(B)/,$(PROGS)) $(UNITS)

# ---------------------------------------------------------------- rules
$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -MMD -MP -c -o $@ $<

$(LIBSUITE): $(call obj,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

define program_rules
$(call progarch,$(1)): $(call obj,$(call dirsrcs,$(1))) $(if $(call dirsrcs,$(1)),,$(B)/lib/empty.o)
	@mkdir -p $$(dir $$@)
	rm -f $$@ && $(AR) rcs $$@ $$^
$(B)/$(call progname,$(1)): $(call obj,$(1)/main.c) $(call progarch,$(1)) $(LIBSUITE)
	$$(CC) $$(CFLAGS) $$(EXTRA_CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS) $$(LDLIBS_$(notdir $(1)))
endef
$(foreach d,$(PROGDIRS),$(eval $(call program_rules,$(d))))

$(B)/lib/empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int empty_translation_unit;' | $(CC) $(ALLCFLAGS) -x c -c -o $@ -

# The test objects are only reached through the pattern rule below; keep
# them (not intermediate) so that a second `make` does not rebuild them.
.SECONDARY: $(call obj,$(UNIT_SRCS))

# Unit tests link every program's module archive (not its main) and
# libsuite; the linker pulls only the objects a test uses.
$(B)/tests/unit/%: $(call obj,tests/unit/%.c) $(PROGARCHS) $(LIBSUITE)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $< \
	    -Wl,--start-group $(PROGARCHS) $(LIBSUITE) -Wl,--end-group \
	    -lcunit $(LDLIBS) $(LDLIBS_unit)

-include $(shell find $(B) -name '*.d' -not -path './.git/*' 2>/dev/null)

# ---------------------------------------------------------------- deps
# Installs missing Debian packages as root (apt-get update once), or
# prints the exact apt-get line and stops when not root.
deps:
	@sh tests/deps.sh

# ---------------------------------------------------------------- tests
test: all
	sh tests/run.sh

sanitize: deps
	$(MAKE) B=build/sanitize EXTRA_CFLAGS="$(SANFLAGS)" OPT=-O1 all
	BIN_DIR=build/sanitize SANITIZE=1 \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    sh tests/run.sh

valgrind: deps
	$(MAKE) all
	VALGRIND=1 sh tests/run.sh --smoke

lint: deps
	sh tests/lint.sh

fuzz: deps
	sh tests/fuzz/run.sh 60

torture: deps
	$(MAKE) all
	sh tests/torture.sh

bench: deps
	$(MAKE) all
	sh perftests/bench.sh quick

bench-full: deps
	$(MAKE) all
	sh perftests/bench.sh full

run: deps
	$(MAKE) all
	sh kvlds/run-local.sh

install: all
	@for p in $(PROGS); do \
	    install -D -m 0755 $$p $(DESTDIR)$(BINDIR)/$$(basename $$p) || exit 1; \
	done
	@for m in $(wildcard */*.[18] */*/*.[18]); do \
	    s=$${m##*.}; \
	    install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$m) || exit 1; \
	done

clean:
	rm -rf build
	find . -path ./.git -prune -o \( -name '*.o' -o -name '*.d' -o -name '*.a' \) -print | xargs rm -f
	rm -f $(PROGS) $(UNITS)
