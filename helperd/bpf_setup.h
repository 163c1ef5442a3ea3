/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Loading the BPF object: reuse or create the pinned maps, attach and pin the programs. */
#ifndef HELPERD_BPF_SETUP_H
#define HELPERD_BPF_SETUP_H

#include <limits.h>
#include <linux/types.h>
#include <stdarg.h>

#include <bpf/libbpf.h>

#include "common/skaccel_maps.h"
#include "helperd/maps.h"

struct skaccel;

/* libbpf_set_print() callback: libbpf's warnings at warn, everything else at debug. */
int helperd_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap);

struct helperd_bpf {
	struct skaccel *skel;
	struct helperd_maps maps; /* borrowed from skel: closed by helperd_bpf_close() */
	unsigned int max_socks;	  /* entries of skaccel_conns: max_socks, or the pinned size */
	int pair_prog;		  /* the pairing check (pair_check.h), run, never attached */
};

/* What set-up did, or where it stopped, for the caller to log. */
struct helperd_bpf_report {
	char reused[160];	     /* names of maps found pinned and reused, ", "-separated */
	char created[160];	     /* names of maps created and pinned now */
	char replaced[160];	     /* maps of an earlier layout replaced (replaceable()) */
	const char *step;	     /* on failure: what failed, as "<verb> <object>" */
	char detail[PATH_MAX + 128]; /* on failure: path and specifics, may be empty */
};

/*
 * Open the skeleton with pin_root_path = pin_dir (LIBBPF_PIN_BY_NAME maps reused when
 * pinned, else created and pinned; the per-socket maps are created with max_socks entries,
 * reused ones keep theirs), check any existing pin for compatibility first (an
 * incompatible settings or statistics map is replaced; -EEXIST: another incompatible map,
 * see report->detail), load, write skaccel_cfg[0] = *cfg, attach
 * sk_msg and sk_skb to the sockhash, pin both programs as prog_msg/prog_skb (replacing old
 * pins). Returns 0 or -errno with report->step set.
 */
int helperd_bpf_setup(struct helperd_bpf *bpf, const char *pin_dir,
		      const struct skaccel_config *cfg, unsigned int max_socks,
		      struct helperd_bpf_report *report);

/* Close our fds. Pins, attachments and the sockets' programs all stay. */
void helperd_bpf_close(struct helperd_bpf *bpf);

#endif /* HELPERD_BPF_SETUP_H */
