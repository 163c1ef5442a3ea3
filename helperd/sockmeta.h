/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Status metadata: who registered each socket and what the helper answered (skaccel_meta). */
#ifndef HELPERD_SOCKMETA_H
#define HELPERD_SOCKMETA_H

#include <sys/types.h>

#include "helperd/maps.h"
#include "helperd/registration.h"

/*
 * Fill *m from a registration's outcome, pure: the client (pid, uid, comm), the tuple, the
 * status, and for a policy refusal the rule (NULL: the default verdict at default_line).
 * Bytes of comm outside printable ASCII become '?'.
 */
void helperd_sockmeta_fill(struct skaccel_sockmeta *m, pid_t pid, uid_t uid, const char *comm,
			   const struct helperd_reg_result *res, unsigned int default_line,
			   __u64 now_ns);

/*
 * Record a registration's outcome for `skaccel status`: in skaccel_meta when the socket
 * entered the maps, in skaccel_refused (LRU) when it was refused after its tuple was read.
 * One /proc read and one map update per registration; failures are ignored (status loses
 * a row's details, nothing else).
 */
void helperd_sockmeta_record(const struct helperd_maps *maps, pid_t pid, uid_t uid,
			     const struct helperd_reg_result *res, unsigned int default_line);

#endif /* HELPERD_SOCKMETA_H */
