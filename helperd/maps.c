// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The map table: names, expected layouts, and opening the pinned maps without a skeleton. */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/skaccel_maps.h"
#include "helperd/maps.h"

#define MAP(field, btype, key, value)                                                      \
	{                                                                                  \
		.name = "skaccel_" #field, .offset = offsetof(struct helperd_maps, field), \
		.type = (btype), .key_size = sizeof(key), .value_size = sizeof(value),     \
	}

const struct helperd_map_desc helperd_map_descs[HELPERD_NR_MAPS] = {
	MAP(socks, BPF_MAP_TYPE_SOCKHASH, __u64, __u64),
	MAP(conns, BPF_MAP_TYPE_HASH, __u64, struct skaccel_conn),
	MAP(peers, BPF_MAP_TYPE_HASH, __u64, __u64),
	MAP(cnt, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, __u64),
	MAP(regcnt, BPF_MAP_TYPE_ARRAY, __u32, __u64),
	MAP(cfg, BPF_MAP_TYPE_ARRAY, __u32, struct skaccel_config),
	MAP(meta, BPF_MAP_TYPE_HASH, __u64, struct skaccel_sockmeta),
	MAP(refused, BPF_MAP_TYPE_LRU_HASH, __u64, struct skaccel_sockmeta),
};

/*
 * Pinned by earlier builds, removed by --unpin. skaccel_ends: the pairing table before the
 * registry (registry.h) took its place.
 */
const char *const helperd_legacy_maps[HELPERD_NR_LEGACY_MAPS] = { "skaccel_ends" };

void helperd_maps_init(struct helperd_maps *maps)
{
	size_t i;

	for (i = 0; i < HELPERD_NR_MAPS; i++)
		*helperd_maps_fd(maps, i) = -1;
}

int helperd_pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int helperd_maps_open_pinned(struct helperd_maps *maps, const char *dir, const char **failed)
{
	char path[4096];
	size_t i;
	int r;

	helperd_maps_init(maps);
	for (i = 0; i < HELPERD_NR_MAPS; i++) {
		const struct helperd_map_desc *d = &helperd_map_descs[i];
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int fd;

		*failed = d->name;
		r = helperd_pin_path(path, sizeof(path), dir, d->name);
		if (r)
			goto fail;
		fd = bpf_obj_get(path);
		if (fd < 0) {
			r = -errno;
			goto fail;
		}
		*helperd_maps_fd(maps, i) = fd;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
			r = -errno;
			goto fail;
		}
		if (info.type != d->type || info.key_size != d->key_size ||
		    info.value_size != d->value_size) {
			r = -EPROTO;
			goto fail;
		}
	}
	*failed = NULL;
	return 0;

fail:
	helperd_maps_close(maps);
	return r;
}

void helperd_maps_close(struct helperd_maps *maps)
{
	size_t i;

	for (i = 0; i < HELPERD_NR_MAPS; i++) {
		int *fd = helperd_maps_fd(maps, i);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}
