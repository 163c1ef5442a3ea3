/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Text out: strings escaped for log lines and JSON. */
#ifndef HELPERD_TEXT_H
#define HELPERD_TEXT_H

#include <stddef.h>
#include <stdio.h>

/*
 * s for a log line: bytes outside printable ASCII and backslashes as \xNN, so that a path
 * a client chose cannot forge log lines; truncated with "..." to fit len.
 */
void helperd_escape(char *buf, size_t len, const char *s);

/* Write s to out as a JSON string, quotes included. */
void helperd_json_string(FILE *out, const char *s);

#endif /* HELPERD_TEXT_H */
