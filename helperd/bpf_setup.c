// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * BPF set-up, the libbpf-bootstrap lifecycle (open -> check -> load -> configure ->
 * attach -> pin), each step checked. Everything is pinned so that a restarted helper
 * finds the same maps and a crashed one leaves every live connection working.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helperd/bpf_setup.h"
#include "helperd/log.h"
#include "skaccel.skel.h"

int helperd_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	helperd_log_va(level == LIBBPF_WARN ? HELPERD_LOG_WARN : HELPERD_LOG_DEBUG, fmt, ap);
	return 0;
}

static void append_name(char *list, size_t len, const char *name)
{
	size_t used = strlen(list);

	snprintf(list + used, len - used, "%s%s", used ? ", " : "", name);
}

/* The maps with one entry per registered socket: sized by --max-socks. */
static bool sized_by_max_socks(const struct skaccel *skel, const struct bpf_map *map)
{
	return map == skel->maps.skaccel_socks || map == skel->maps.skaccel_conns ||
	       map == skel->maps.skaccel_peers || map == skel->maps.skaccel_meta;
}

/*
 * Maps that hold no connection's state: the settings every helper writes when it starts,
 * and statistics. When an earlier build pinned one of them with another layout, the pin
 * is replaced instead of refused, so that an upgrade does not need --unpin, which would
 * leave the live connections' sockets outside the sockhash of the next helper. The old
 * map lives on for as long as the programs of the connections inserted before use it:
 * a psock keeps the programs, and so the maps, it was created with.
 */
static bool replaceable(struct skaccel *skel, const struct bpf_map *map)
{
	return map == skel->maps.skaccel_cfg || map == skel->maps.skaccel_cnt ||
	       map == skel->maps.skaccel_regcnt || map == skel->maps.skaccel_refused;
}

/*
 * libbpf would refuse an incompatible pin with a generic "parameter mismatch" warning;
 * checking first lets us name the map and what differs. Also records reused/created, and
 * unpins replaceable maps of another layout (libbpf then creates and pins them anew).
 */
static int check_pins(struct skaccel *skel, const char *pin_dir, struct helperd_bpf_report *report)
{
	struct bpf_map *map;
	char path[PATH_MAX];

	bpf_object__for_each_map(map, skel->obj)
	{
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		bool same;
		int fd, r;

		if (!bpf_map__pin_path(map))
			continue; /* not pinned by name (.rodata and the like) */
		r = helperd_pin_path(path, sizeof(path), pin_dir, bpf_map__name(map));
		if (r)
			return r;
		fd = bpf_obj_get(path);
		if (fd < 0 && errno == ENOENT) {
			append_name(report->created, sizeof(report->created), bpf_map__name(map));
			continue;
		}
		if (fd < 0) {
			r = -errno;
			snprintf(report->detail, sizeof(report->detail), "%s", path);
			return r;
		}
		memset(&info, 0, sizeof(info));
		r = bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? -errno : 0;
		close(fd);
		if (r) {
			snprintf(report->detail, sizeof(report->detail), "%s", path);
			return r;
		}
		/* The sockhash and its companions keep the size they were created with. */
		if (sized_by_max_socks(skel, map) && info.max_entries != bpf_map__max_entries(map))
			bpf_map__set_max_entries(map, info.max_entries);
		same = info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
		       info.value_size == bpf_map__value_size(map) &&
		       info.max_entries == bpf_map__max_entries(map) &&
		       info.map_flags == bpf_map__map_flags(map);
		if (!same && replaceable(skel, map)) {
			if (unlink(path) < 0) {
				r = -errno;
				snprintf(report->detail, sizeof(report->detail), "%s", path);
				return r;
			}
			append_name(report->replaced, sizeof(report->replaced), bpf_map__name(map));
			continue;
		}
		if (!same) {
			snprintf(report->detail, sizeof(report->detail),
				 "%s has type %u, key %u B, value %u B, %u entries, flags %#x; "
				 "this build needs type %u, key %u B, value %u B, %u entries, "
				 "flags %#x",
				 path, info.type, info.key_size, info.value_size, info.max_entries,
				 info.map_flags, bpf_map__type(map), bpf_map__key_size(map),
				 bpf_map__value_size(map), bpf_map__max_entries(map),
				 bpf_map__map_flags(map));
			return -EEXIST;
		}
		append_name(report->reused, sizeof(report->reused), bpf_map__name(map));
	}
	return 0;
}

/* Pin prog at <pin_dir>/<name>, replacing a pin an earlier helper left there. */
static int pin_prog(struct bpf_program *prog, const char *pin_dir, const char *name,
		    struct helperd_bpf_report *report)
{
	char path[PATH_MAX];
	int r;

	r = helperd_pin_path(path, sizeof(path), pin_dir, name);
	if (r)
		return r;
	snprintf(report->detail, sizeof(report->detail), "%s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	r = bpf_obj_pin(bpf_program__fd(prog), path);
	if (r < 0)
		return -errno;
	report->detail[0] = '\0';
	return 0;
}

int helperd_bpf_setup(struct helperd_bpf *bpf, const char *pin_dir,
		      const struct skaccel_config *cfg, unsigned int max_socks,
		      struct helperd_bpf_report *report)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = pin_dir);
	struct skaccel *skel;
	__u32 zero = 0;
	size_t i;
	int r;

	memset(report, 0, sizeof(*report));
	helperd_maps_init(&bpf->maps);
	bpf->skel = NULL;
	bpf->pair_prog = -1;

	report->step = "open BPF object";
	skel = skaccel__open_opts(&open_opts);
	if (!skel)
		return -errno;
	bpf->skel = skel;

	report->step = "size socket maps";
	r = bpf_map__set_max_entries(skel->maps.skaccel_socks, max_socks);
	if (!r)
		r = bpf_map__set_max_entries(skel->maps.skaccel_conns, max_socks);
	if (!r)
		r = bpf_map__set_max_entries(skel->maps.skaccel_peers, max_socks);
	if (!r)
		r = bpf_map__set_max_entries(skel->maps.skaccel_meta, max_socks);
	if (r)
		goto fail;

	report->step = "reuse pinned maps";
	r = check_pins(skel, pin_dir, report);
	if (r)
		goto fail;

	report->step = "load BPF programs";
	r = skaccel__load(skel);
	if (r)
		goto fail;

	/* The registry mirrors skaccel_conns, so it takes that map's size. */
	bpf->max_socks = bpf_map__max_entries(skel->maps.skaccel_conns);
	bpf->maps.socks = bpf_map__fd(skel->maps.skaccel_socks);
	bpf->maps.conns = bpf_map__fd(skel->maps.skaccel_conns);
	bpf->maps.peers = bpf_map__fd(skel->maps.skaccel_peers);
	bpf->maps.cnt = bpf_map__fd(skel->maps.skaccel_cnt);
	bpf->maps.regcnt = bpf_map__fd(skel->maps.skaccel_regcnt);
	bpf->maps.cfg = bpf_map__fd(skel->maps.skaccel_cfg);
	bpf->maps.meta = bpf_map__fd(skel->maps.skaccel_meta);
	bpf->maps.refused = bpf_map__fd(skel->maps.skaccel_refused);
	bpf->pair_prog = bpf_program__fd(skel->progs.skaccel_pair);
	for (i = 0; i < HELPERD_NR_MAPS; i++) {
		if (*helperd_maps_fd(&bpf->maps, i) < 0) {
			report->step = "find map fd";
			r = -EBADF;
			goto fail;
		}
	}

	/* Before attaching: a fresh skaccel_cfg is all zeroes, i.e. disabled. */
	report->step = "write skaccel_cfg";
	if (bpf_map_update_elem(bpf->maps.cfg, &zero, cfg, BPF_ANY) < 0) {
		r = -errno;
		goto fail;
	}

	/*
	 * Replaces what an earlier helper attached; only sockets inserted from now on get
	 * these programs (a psock keeps the ones it was created with). libbpf 1.1 knows no
	 * "sk_skb/verdict" section, so the verdict program is attached by type here.
	 */
	report->step = "attach sk_msg program to skaccel_socks";
	if (bpf_prog_attach(bpf_program__fd(skel->progs.skaccel_msg), bpf->maps.socks,
			    BPF_SK_MSG_VERDICT, 0) < 0) {
		r = -errno;
		goto fail;
	}
	report->step = "attach sk_skb verdict program to skaccel_socks";
	if (bpf_prog_attach(bpf_program__fd(skel->progs.skaccel_skb), bpf->maps.socks,
			    BPF_SK_SKB_VERDICT, 0) < 0) {
		r = -errno;
		goto fail;
	}

	report->step = "pin sk_msg program";
	r = pin_prog(skel->progs.skaccel_msg, pin_dir, HELPERD_PIN_PROG_MSG, report);
	if (r)
		goto fail;
	report->step = "pin sk_skb program";
	r = pin_prog(skel->progs.skaccel_skb, pin_dir, HELPERD_PIN_PROG_SKB, report);
	if (r)
		goto fail;

	report->step = "pin the pairing check";
	r = pin_prog(skel->progs.skaccel_pair, pin_dir, HELPERD_PIN_PROG_PAIR, report);
	if (r)
		goto fail;

	report->step = NULL;
	return 0;

fail:
	helperd_bpf_close(bpf);
	return r < 0 ? r : -r;
}

void helperd_bpf_close(struct helperd_bpf *bpf)
{
	skaccel__destroy(bpf->skel); /* closes the fds; pins and attachments stay */
	bpf->skel = NULL;
	bpf->pair_prog = -1;
	helperd_maps_init(&bpf->maps);
}
