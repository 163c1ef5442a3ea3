# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Removing what the end-to-end tests create, sourced by tests/lib/skt.sh and
# tests/run-all.sh. Only resources this suite recorded or named are touched: helpers by
# pid (and only while that pid still runs the helper binary), pin directories
# /sys/fs/bpf/skt-ID-*, network namespaces skt-ID-*, directories /tmp/skt-ID-*, where ID
# is the pid of the run that created them.

# shellcheck shell=bash

# skt_sweep STATE_DIR: remove everything recorded in STATE_DIR/resources.
skt_sweep() {
	local state=$1 kind a b
	[ -f "$state/resources" ] || return 0
	while read -r kind a b; do
		[ "$kind" = pid ] || continue
		if [ -n "$b" ] && [ "$(readlink "/proc/$a/exe" 2>/dev/null)" = "$(readlink -f "$b")" ]; then
			kill -KILL "$a" 2>/dev/null
		fi
	done <"$state/resources"
	while read -r kind a b; do
		case $kind in
		pin) skt_remove_pin "$a" ;;
		netns) skt_remove_netns "$a" ;;
		dir) rm -rf "$a" ;;
		esac
	done <"$state/resources"
	: >"$state/resources"
}

# Kill what still runs in a namespace of ours, then delete it. Deleting alone leaves its
# processes running: a test program whose parent job was killed (its timeout(1) wrapper
# survives a SIGTERM to the subshell that started it) would live on for its whole timeout.
skt_remove_netns() {
	ip netns pids "$1" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$1" 2>/dev/null
	return 0
}

# Unpin with the helper when it is there (it knows its files), then remove the directory.
skt_remove_pin() {
	[ -d "$1" ] || return 0
	[ -x "${HELPERD:-}" ] && "$HELPERD" --unpin --pin-dir "$1" >/dev/null 2>&1
	rm -rf "$1" 2>/dev/null
	return 0
}

# Leftovers of earlier runs that were killed before they could clean up: resources named
# skt-ID-* whose run (pid ID) is gone. A helper still serving such a pin directory is
# killed first (found by its exact --pin-dir argument).
skt_sweep_stale() {
	local path id name pid
	for path in /sys/fs/bpf/skt-* /tmp/skt-*; do
		[ -e "$path" ] || continue
		name=${path##*/}
		id=${name#skt-}
		id=${id%%-*}
		case $id in '' | *[!0-9]*) continue ;; esac
		kill -0 "$id" 2>/dev/null && continue
		if [ "${path#/sys/fs/bpf/}" != "$path" ]; then
			for pid in /proc/[0-9]*; do
				pid=${pid#/proc/}
				tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$path" &&
					kill -KILL "$pid" 2>/dev/null
			done
			skt_remove_pin "$path"
		else
			rm -rf "$path"
		fi
	done
	for name in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep '^skt-[0-9]*-'); do
		id=${name#skt-}
		id=${id%%-*}
		kill -0 "$id" 2>/dev/null || skt_remove_netns "$name"
	done
	return 0
}
