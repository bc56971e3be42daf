#!/bin/sh
# deps.sh: make sure the Debian packages the build and tests use are
# installed.  As root, missing ones are installed (apt-get update once,
# then apt-get install); otherwise the exact command is printed and the
# script fails.  Quiet when nothing is missing.
#
# `deps.sh s3` checks the separate set the S3 tests need instead (Ceph's
# monitor, OSD and radosgw, about 290 MB), so that the main build never
# pulls them in.
PKGS="libssl-dev libscrypt-dev libcunit1-dev libevent-dev spiped scrypt
	valgrind cppcheck clang clang-tidy libclang-rt-14-dev gnuplot-nox
	procps psmisc strace pkgconf libcurl4-openssl-dev"
NOREC=""
if [ "${1:-}" = s3 ]; then
	PKGS="ceph-mon ceph-osd radosgw"
	NOREC=--no-install-recommends
fi

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
# shellcheck disable=SC2086
apt-get install -y -qq $NOREC $missing >/dev/null || exit 1
