/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Names for the data-path counters and registration outcomes, for people and for JSON. */
#ifndef HELPERD_NAMES_H
#define HELPERD_NAMES_H

#include <stdint.h>

/* Stable snake_case key of an enum skaccel_counter ("redir_bytes"); NULL if out of range. */
const char *helperd_counter_key(unsigned int counter);

/* A phrase for people ("bytes redirected peer-to-peer"); NULL if out of range. */
const char *helperd_counter_phrase(unsigned int counter);

/* Is this counter a fallback reason (what skaccel_conn.last_fallback holds)? */
int helperd_counter_is_fallback(unsigned int counter);

/* Stable snake_case key of an enum skaccel_status ("waiting_peer"); NULL if unknown. */
const char *helperd_status_key(int32_t status);

#endif /* HELPERD_NAMES_H */
