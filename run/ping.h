/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skaccel-run's check that a helper is listening: one PING, one bounded wait. */
#ifndef SKRUN_PING_H
#define SKRUN_PING_H

#include <stdint.h>

/*
 * Ping the helper at path ("@name": abstract socket), waiting at most timeout_ms. Returns 0
 * if it answered; *status is its status (SKACCEL_OK_PONG from a healthy helper). Else
 * -errno: the socket's error, -ETIMEDOUT, -EPROTO (malformed reply), -ECONNRESET (hung up).
 */
int skrun_ping(const char *path, int timeout_ms, int32_t *status);

#endif /* SKRUN_PING_H */
