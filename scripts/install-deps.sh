#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Install what skaccel needs on Debian 12, only when it is missing, so `make demo` and
# `make check` work on a fresh machine and cost nothing on the second run.
#   install-deps.sh build        compiler, libbpf, bpftool, headers, scdoc (man pages)
#   install-deps.sh build test   ... plus what the tests drive, including the real
#                                programs tests/e2e/apps/*.sh run under skaccel-run,
#                                the man page linter and lintian
#   install-deps.sh build deb    ... plus debhelper, for make deb
set -euo pipefail

want=()
for set in "$@"; do
	case "$set" in
	build) want+=(make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config
		      linux-libc-dev libc6-dev scdoc) ;;
	test) want+=(iproute2 procps util-linux python3 psmisc systemd libclang-rt-dev clang-format
		     redis-server redis-tools nginx curl wrk memcached libmemcached-tools
		     iperf3 sockperf nodejs mandoc lintian debhelper prometheus \
		     nftables systemd-container yamllint python3-yaml) ;; # prometheus: promtool check metrics
	deb) want+=(debhelper dpkg-dev fakeroot) ;;
	*) echo "install-deps.sh: unknown set '$set' (build, test, deb)" >&2; exit 2 ;;
	esac
done

missing=()
for pkg in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "skaccel: missing ${missing[*]} (run as root: scripts/install-deps.sh $*)" >&2
	exit 1
fi
echo "skaccel: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Daemons the tests start themselves (redis, nginx, memcached) must not be started by
# their packages: a policy-rc.d saying "no" for the time of the install, unless the
# machine already has one (containers do).
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
