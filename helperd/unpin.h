/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* --unpin: removing the pinned maps and programs (a clean uninstall). */
#ifndef HELPERD_UNPIN_H
#define HELPERD_UNPIN_H

#include <stdbool.h>

/*
 * Unlink every pin skaccel owns in pin_dir, then the directory if that left it empty.
 * Only on bpffs (-ENOTSUP otherwise: we never unlink files elsewhere). A missing pin_dir
 * is success with nothing removed. *removed counts unlinked pins; *dir_removed whether
 * pin_dir itself went. Live connections keep working: their psocks hold the programs,
 * which hold the maps.
 */
int helperd_unpin(const char *pin_dir, unsigned int *removed, bool *dir_removed);

#endif /* HELPERD_UNPIN_H */
