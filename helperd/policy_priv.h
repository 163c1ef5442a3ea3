/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* What policy.c, policy_parse.c and policy_match.c share, and nothing else includes. */
#ifndef HELPERD_POLICY_PRIV_H
#define HELPERD_POLICY_PRIV_H

#include <stdbool.h>

#include "helperd/policy.h"

/* Add an error or a warning to d (counted even when diag[] is full). */
__attribute__((format(printf, 5, 6))) void helperd_policy_diag(struct helperd_policy_diags *d,
							       bool warning, unsigned int line,
							       unsigned int col, const char *fmt,
							       ...);

/* Free what a rule holds and zero it (policy_parse.c). */
void helperd_policy_rule_free(struct helperd_policy_rule *r);

/* qsort()/bsearch() order of gid_t (policy_match.c). */
int helperd_policy_cmp_gid(const void *a, const void *b);

#endif /* HELPERD_POLICY_PRIV_H */
