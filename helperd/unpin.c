// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Removing skaccel's pins: the maps by name, the programs, then the empty directory. */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "helperd/bpffs.h"
#include "helperd/maps.h"
#include "helperd/unpin.h"

static int unpin_one(const char *pin_dir, const char *name, unsigned int *removed)
{
	char path[PATH_MAX];
	int r;

	r = helperd_pin_path(path, sizeof(path), pin_dir, name);
	if (r)
		return r;
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -errno;
	(*removed)++;
	return 0;
}

int helperd_unpin(const char *pin_dir, unsigned int *removed, bool *dir_removed)
{
	static const char *const progs[] = { HELPERD_PIN_PROG_MSG, HELPERD_PIN_PROG_SKB,
					     HELPERD_PIN_PROG_PAIR };
	size_t i;
	int r;

	*removed = 0;
	*dir_removed = false;
	r = helperd_is_bpffs(pin_dir);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (!r)
		return -ENOTSUP;
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		r = unpin_one(pin_dir, progs[i], removed);
		if (r)
			return r;
	}
	for (i = 0; i < HELPERD_NR_MAPS; i++) {
		r = unpin_one(pin_dir, helperd_map_descs[i].name, removed);
		if (r)
			return r;
	}
	for (i = 0; i < HELPERD_NR_LEGACY_MAPS; i++) {
		r = unpin_one(pin_dir, helperd_legacy_maps[i], removed);
		if (r)
			return r;
	}
	if (rmdir(pin_dir) == 0)
		*dir_removed = true;
	else if (errno != ENOTEMPTY && errno != EEXIST)
		return -errno;
	return 0;
}
