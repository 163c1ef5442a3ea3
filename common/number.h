/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Numbers and sizes parsed strictly, one parser for the helper and the shim. */
#ifndef SKACCEL_NUMBER_H
#define SKACCEL_NUMBER_H

#include <stdint.h>

/*
 * A decimal in [min, max]: digits only, no sign, no space, nothing after (leading zeros
 * are allowed). 0; -EINVAL if it is not such a number, -ERANGE if it is out of range.
 */
int skaccel_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *val);

/* The same for an unsigned int. */
int skaccel_parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *val);

/* "1048576", "64K", "4M", "1G" (powers of 1024, either case) -> bytes; 0 or -EINVAL/-ERANGE. */
int skaccel_parse_size(const char *s, uint64_t *bytes);

#endif /* SKACCEL_NUMBER_H */
