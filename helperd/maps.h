/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The helper's handles on the BPF maps, their pinned names, and opening them by path. */
#ifndef HELPERD_MAPS_H
#define HELPERD_MAPS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Programs are pinned beside the maps under these names (maps use their own names). */
#define HELPERD_PIN_PROG_MSG "prog_msg"
#define HELPERD_PIN_PROG_SKB "prog_skb"
/* The pairing check, pinned so that tools and tests can run it against the live maps. */
#define HELPERD_PIN_PROG_PAIR "prog_pair"

/*
 * fds of the maps in common/skaccel_maps.h; -1 when not open. Pairing is the
 * registry's (registry.h): no map holds the ends that wait for their peer.
 */
struct helperd_maps {
	int socks;
	int conns;
	int peers;
	int cnt;
	int regcnt;
	int cfg;
	int meta;    /* status metadata of registered sockets (sockmeta.h) */
	int refused; /* ... and of recent refusals */
};

/* What a pinned map must look like; checked before use so a stale pin fails clearly. */
struct helperd_map_desc {
	const char *name; /* the BPF map name, which is also its pin name */
	size_t offset;	  /* of its fd in struct helperd_maps */
	uint32_t type;	  /* enum bpf_map_type */
	uint32_t key_size;
	uint32_t value_size;
};

#define HELPERD_NR_MAPS 8
extern const struct helperd_map_desc helperd_map_descs[HELPERD_NR_MAPS];

/*
 * Maps a BPF object may pin (this one until bpf/ drops them, or an older one) that the
 * helper no longer opens; --unpin removes them all the same.
 */
#define HELPERD_NR_LEGACY_MAPS 1
extern const char *const helperd_legacy_maps[HELPERD_NR_LEGACY_MAPS];

static inline int *helperd_maps_fd(struct helperd_maps *maps, size_t i)
{
	return (int *)((char *)maps + helperd_map_descs[i].offset);
}

void helperd_maps_init(struct helperd_maps *maps);

/*
 * Does this errno from a batch map operation mean "no batch ops here" (a kernel before
 * 5.6, or a map type without them), so that one call per key is the way? ENOTSUPP (524)
 * is the kernel's own, which reaches userspace from some of them.
 */
static inline bool helperd_batch_unsupported(int err)
{
	return err == EINVAL || err == EOPNOTSUPP || err == 524;
}

/* "<dir>/<name>" into buf; 0 or -ENAMETOOLONG. */
int helperd_pin_path(char *buf, size_t len, const char *dir, const char *name);

/*
 * Open every pinned map under dir (bpf_obj_get) and check its type and sizes. On failure
 * returns -errno (-ENOENT: not pinned there, -EPROTO: not the layout this build expects),
 * closes what it opened, and sets *failed to the name of the map at fault.
 */
int helperd_maps_open_pinned(struct helperd_maps *maps, const char *dir, const char **failed);

/* Close the fds (only for maps opened by helperd_maps_open_pinned). */
void helperd_maps_close(struct helperd_maps *maps);

#endif /* HELPERD_MAPS_H */
