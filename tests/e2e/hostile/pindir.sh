#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The pin directory is trusted only when no one but root can change it (SECURITY.md): its
# pins are the maps the helper fills with sockets, so a directory another user made, or
# may write to, could hold that user's maps in their place. The helper must refuse to
# start, naming the directory and what is wrong with it, when the pin directory is owned
# by another user, is group- or world-writable, or is a symlink; and start on a sound one.
# Where bpffs itself is world-writable, anyone can squat the pin directory first: the
# refusal must then say exactly which command to run, and that command must be enough.
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(hostile/pindir_owned_by_other_user hostile/pindir_world_writable
       hostile/pindir_symlink hostile/pindir_sound_starts
       hostile/pindir_bpffs_squatted hostile/pindir_bpffs_world_writable)
skt_require "${TESTS[@]}"

nobody=$(id -u nobody)
base=/sys/fs/bpf/skt-$SKT_RUN_ID-pindir

# refused NAME PIN WANT: the helper must exit 1 at once with WANT in its log.
refused() {
	local name=$1 pin=$2 want=$3 log=$SKT_TMP/$RANDOM.log rc
	timeout -k 2 10 "$HELPERD" --socket "$SKT_TMP/h.sock" --pin-dir "$pin" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q -- "$want" "$log" && [ ! -e "$pin/skaccel_socks" ]; then
		skt_pass "$name"
	else
		skt_fail "$name" "exit $rc, want 1 and '$want': $(skt_tail "$log")"
	fi
}

mkdir -p "$base" && chmod 0755 "$base" && echo "pin $base" >>"$SKT_STATE/resources"

mkdir "$base/theirs" && chown "$nobody" "$base/theirs" && chmod 0700 "$base/theirs"
refused "${TESTS[0]}" "$base/theirs/skaccel" \
	"Failed to trust pin directory $base/theirs/skaccel: $base/theirs is unsafe (owner uid $nobody, mode 0700)"

mkdir "$base/open" && chmod 0777 "$base/open"
refused "${TESTS[1]}" "$base/open" \
	"Failed to trust pin directory $base/open: $base/open is unsafe (owner uid 0, mode 0777)"

mkdir "$base/real" && chmod 0700 "$base/real" && ln -s "$base/real" "$base/link"
refused "${TESTS[2]}" "$base/link" "Failed to trust pin directory $base/link: $base/link is not a directory"

if skt_helper_start_at "$SKT_TMP/ok.sock" "$base/sound"; then
	skt_pass "${TESTS[3]}"
else
	skt_fail "${TESTS[3]}" "$SKT_WHY"
fi
skt_helper_stop
skt_helper_unpin "$base/sound"
rm -rf "$base"

# fixed NAME PIN WANT COMMAND: refused with WANT (which quotes COMMAND); after COMMAND,
# run as root exactly as the message says, the helper starts.
fixed() {
	local name=$1 pin=$2 want=$3 command=$4 log=$SKT_TMP/$RANDOM.log rc
	timeout -k 2 10 "$HELPERD" --socket "$SKT_TMP/h.sock" --pin-dir "$pin" >"$log" 2>&1
	rc=$?
	if [ $rc -ne 1 ] || ! grep -qF -- "$want" "$log"; then
		skt_fail "$name" "exit $rc, want 1 and '$want': $(skt_tail "$log")"
		return
	fi
	if ! sh -c "$command"; then
		skt_fail "$name" "the advised '$command' failed"
		return
	fi
	if skt_helper_start_at "$SKT_TMP/$name.sock" "$pin"; then
		skt_pass "$name"
	else
		skt_fail "$name" "after '$command': $SKT_WHY"
	fi
	skt_helper_stop
	skt_helper_unpin "$pin"
}

# A bpffs mounted for everyone (mode=0777, as some setups do; bpffs adds the sticky bit):
# any user can take the pin directory's name before the helper first starts. A mount of
# our own, unmounted at exit.
mnt=$SKT_TMP/bpffs
trap 'umount -l "$mnt" 2>/dev/null; skt_cleanup' EXIT
chmod 0755 "$SKT_TMP" && mkdir "$mnt" && mount -t bpf -o mode=0777 bpf "$mnt"
setpriv --reuid "$nobody" --regid "$nobody" --clear-groups mkdir -m 0700 "$mnt/skaccel" ||
	skt_fail "${TESTS[4]}" "nobody could not squat $mnt/skaccel"
fixed "${TESTS[4]}" "$mnt/skaccel" \
	"another user made it: replace it with 'rm -r -- $mnt/skaccel && mkdir -m 0700 $mnt/skaccel'" \
	"rm -r -- $mnt/skaccel && mkdir -m 0700 $mnt/skaccel"
umount "$mnt"

# World-writable without the sticky bit: anyone could rename the helper's directory away.
mount -t bpf bpf "$mnt" && chmod 0777 "$mnt"
fixed "${TESTS[5]}" "$mnt/skaccel" "$mnt is unsafe (owner uid 0, mode 0777); it must be a directory that only root can write to, below directories only root can write to: run 'chmod o-w,g-w $mnt'" \
	"chmod o-w,g-w $mnt"
umount "$mnt"
skt_done
