#!/bin/bash
# 440-libkvlds: `make install-libkvlds` (part of `make install`) puts
# libkvlds.a, libkvlds.so, <kvlds/kvclient.h> and kvlds.pc under PREFIX
# (and DESTDIR); an example program written against the installed header
# and pkg-config, linked shared and static, runs against a real kvlds on
# a Unix socket, driving the client from its own event loop.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
[ -x "$KVLDS" ] || skip "kvlds not built"
command -v pkg-config >/dev/null || skip "pkg-config not installed"

# The regular (not sanitizer) build of the library, installed twice.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" "$@"; }
mk install-libkvlds PREFIX="$T/prefix" >"$T/make.log" 2>&1 ||
    { cat "$T/make.log"; fail "make install-libkvlds"; }
P=$T/prefix
for f in lib/libkvlds.a lib/libkvlds.so.0 lib/libkvlds.so \
    include/kvlds/kvclient.h include/kvlds/keyfile.h lib/pkgconfig/kvlds.pc; do
	check "installed $f" [ -e "$P/$f" ]
done
check "kvlds.pc has PREFIX" grep -qx "prefix=$P" "$P/lib/pkgconfig/kvlds.pc"
check "exports only kvclient_* and keyfile_*" sh -c \
    "! nm -D --defined-only '$P/lib/libkvlds.so.0' | awk '\$2 == \"T\" { print \$3 }' | grep -v -e '^kvclient_' -e '^keyfile_' | grep -q ."
check "exports kvclient_open" sh -c \
    "nm -D --defined-only '$P/lib/libkvlds.so.0' | grep -q ' T kvclient_open'"
check "soname" sh -c "objdump -p '$P/lib/libkvlds.so.0' | grep -q 'SONAME.*libkvlds.so.0'"

mk install-libkvlds PREFIX=/opt/kvlds DESTDIR="$T/stage" >"$T/make.log" 2>&1 ||
    { cat "$T/make.log"; fail "make install-libkvlds DESTDIR"; }
check "DESTDIR: files under DESTDIR/PREFIX" \
    [ -e "$T/stage/opt/kvlds/lib/libkvlds.so" ]
check "DESTDIR: kvlds.pc names PREFIX only" \
    grep -qx "prefix=/opt/kvlds" "$T/stage/opt/kvlds/lib/pkgconfig/kvlds.pc"
mk -n install PREFIX="$T/p3" >"$T/make.n" 2>&1
check "make install installs the library" grep -q 'libkvlds\.a' "$T/make.n"

cat >"$T/example.c" <<'C'
/* A libkvlds user: asynchronous calls in its own event loop, then
 * blocking ones. */
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <kvlds/kvclient.h>

static int nset, done = -2;

static void
set_cb(void *cookie, int status)
{

	(void)cookie;
	if (status == KVCLIENT_OK)
		nset++;
}

static int
pair_cb(void *cookie, const uint8_t *k, size_t kl, const uint8_t *v,
    size_t vl)
{

	(void)cookie;
	printf("%.*s=%.*s\n", (int)kl, (const char *)k, (int)vl,
	    (const char *)v);
	return (0);
}

static void
done_cb(void *cookie, int status)
{

	done = status;
	event_base_loopbreak(cookie);
}

int
main(int argc, char *argv[])
{
	struct event_base *base = event_base_new();
	struct kvclient *K;
	char key[16], val[16];
	uint8_t got[255];
	size_t gotlen;
	int i;

	if ((argc != 2) || (base == NULL) ||
	    ((K = kvclient_open(base, argv[1], NULL)) == NULL))
		return (2);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "ex%03d", i);
		snprintf(val, sizeof(val), "v%d", i * i);
		if (kvclient_set(K, (uint8_t *)key, strlen(key),
		    (uint8_t *)val, strlen(val), set_cb, NULL))
			return (2);
	}
	if (kvclient_wait(K, 0))
		return (2);
	printf("set %d\n", nset);
	if (kvclient_range_all(K, (const uint8_t *)"ex095", 5,
	    (const uint8_t *)"ex098", 5, 4096, pair_cb, done_cb, base))
		return (2);
	event_base_dispatch(base);
	printf("range %d\n", done);
	if (kvclient_get_b(K, (const uint8_t *)"ex012", 5, got, &gotlen) !=
	    KVCLIENT_OK)
		return (2);
	printf("get %.*s\n", (int)gotlen, (char *)got);
	printf("absent %d\n", kvclient_get_b(K, (const uint8_t *)"zz", 2, got,
	    &gotlen));
	printf("maxkey %zu\n", kvclient_maxkey(K));
	kvclient_free(K);
	event_base_free(base);
	return (0);
}
C
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
check "pkg-config knows kvlds" pkg-config --exists kvlds
CFL=$(pkg-config --cflags kvlds libevent)
cc -std=c11 -Wall -Wextra -Werror -o "$T/ex-shared" "$T/example.c" $CFL \
    $(pkg-config --libs kvlds libevent) -Wl,-rpath,"$P/lib"
check "example builds (shared)" [ -x "$T/ex-shared" ]
check "example is linked to libkvlds.so.0" \
    sh -c "ldd '$T/ex-shared' | grep -q '$P/lib/libkvlds.so.0'"
cc -std=c11 -Wall -Wextra -Werror -o "$T/ex-static" "$T/example.c" $CFL \
    $(pkg-config --libs --static kvlds libevent | sed 's/-lkvlds/-l:libkvlds.a/')
check "example builds (static)" [ -x "$T/ex-static" ]
check "static example does not need libkvlds.so" \
    sh -c "! ldd '$T/ex-static' | grep -q libkvlds"

start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
wait_socket "$T/kv.sock"
printf 'set 100\nex095=v9025\nex096=v9216\nex097=v9409\nrange 0\nget v144\nabsent 1\nmaxkey 255\n' \
    >"$T/want"
for v in shared static; do
	"$T/ex-$v" "$T/kv.sock" >"$T/got.$v"
	check "example ($v): status 0" [ $? = 0 ]
	check "example ($v): output" cmp "$T/got.$v" "$T/want"
done
"$CLI" -t "$T/kv.sock" get ex099 >"$T/out"
check "pairs are in the store" [ "$(cat "$T/out")" = v9801 ]
