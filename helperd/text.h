/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Text in and out: numbers and sizes parsed strictly, strings escaped for logs and JSON. */
#ifndef HELPERD_TEXT_H
#define HELPERD_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A decimal in [min, max]: digits only, no sign, no space, nothing after (leading zeros
 * are allowed). 0; -EINVAL if it is not such a number, -ERANGE if it is out of range.
 */
int helperd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *val);

/* The same for an unsigned int. */
int helperd_parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *val);

/* "1048576", "64K", "4M", "1G" (powers of 1024, either case) -> bytes; 0 or -EINVAL/-ERANGE. */
int helperd_parse_size(const char *s, uint64_t *bytes);

/*
 * s for a log line: bytes outside printable ASCII and backslashes as \xNN, so that a path
 * a client chose cannot forge log lines; truncated with "..." to fit len.
 */
void helperd_escape(char *buf, size_t len, const char *s);

/* Write s to out as a JSON string, quotes included. */
void helperd_json_string(FILE *out, const char *s);

#endif /* HELPERD_TEXT_H */
