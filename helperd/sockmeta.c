// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Writing skaccel_meta and skaccel_refused, the maps `skaccel status` reads to say which
 * process registered a socket and why a connection stays on TCP. Off the data path: one
 * update per registration; the sweep deletes skaccel_meta entries with skaccel_conns.
 */
#include <bpf/bpf.h>
#include <string.h>

#include "common/skaccel_proto.h"
#include "helperd/ratelimit.h"
#include "helperd/sockmeta.h"

/*
 * src into dst, cut to fit and NUL-terminated (a long rule is still recognisable). A
 * process names itself (prctl PR_SET_NAME): bytes outside printable ASCII become '?', so
 * that no name can drive the terminal of the operator who runs skaccel status.
 */
static void copy_cut(char *dst, size_t len, const char *src)
{
	size_t i, n = strnlen(src, len - 1);

	for (i = 0; i < n; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[n] = '\0';
}

void helperd_sockmeta_fill(struct skaccel_sockmeta *m, pid_t pid, uid_t uid, const char *comm,
			   const struct helperd_reg_result *res, unsigned int default_line,
			   __u64 now_ns)
{
	memset(m, 0, sizeof(*m));
	m->tuple = res->tuple;
	m->time_ns = now_ns;
	m->pid = (__u32)pid;
	m->uid = (__u32)uid;
	m->status = res->status;
	copy_cut(m->comm, sizeof(m->comm), comm ? comm : "");
	if (res->status != SKACCEL_ERR_POLICY)
		return;
	if (res->rule) {
		m->rule_line = res->rule->line;
		copy_cut(m->rule, sizeof(m->rule), res->rule->text);
	} else {
		m->rule_line = default_line;
	}
}

void helperd_sockmeta_record(const struct helperd_maps *maps, pid_t pid, uid_t uid,
			     const char *comm, const struct helperd_reg_result *res,
			     unsigned int default_line)
{
	struct skaccel_sockmeta m;
	int fd;

	/* A socket not registered because its peer was not is no refusal: it asks again. */
	if (!res->have_tuple || res->status == SKACCEL_OK_NO_PEER)
		return;
	fd = res->inserted ? maps->meta : maps->refused;
	if (fd < 0)
		return;
	helperd_sockmeta_fill(&m, pid, uid, comm, res, default_line, helperd_now_ns());
	(void)bpf_map_update_elem(fd, &res->cookie, &m, BPF_ANY);
}
