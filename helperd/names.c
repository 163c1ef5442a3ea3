// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Keys and phrases of enum skaccel_counter and enum skaccel_status, from their lists. */
#include <linux/types.h>
#include <stddef.h>

#include "common/skaccel_maps.h"
#include "common/skaccel_proto.h"
#include "helperd/names.h"

static const struct {
	const char *key;
	const char *phrase;
	int fallback;
} counters[SKACCEL_CNT_MAX] = {
#define COUNTER_NAMES(name, key, phrase, fallback, ...) \
	[SKACCEL_CNT_##name] = { key, phrase, fallback },
	SKACCEL_COUNTER_LIST(COUNTER_NAMES)
#undef COUNTER_NAMES
};

const char *helperd_counter_key(unsigned int counter)
{
	return counter < SKACCEL_CNT_MAX ? counters[counter].key : NULL;
}

const char *helperd_counter_phrase(unsigned int counter)
{
	return counter < SKACCEL_CNT_MAX ? counters[counter].phrase : NULL;
}

int helperd_counter_is_fallback(unsigned int counter)
{
	return counter < SKACCEL_CNT_MAX && counters[counter].fallback;
}

const char *helperd_status_key(int32_t status)
{
	switch (status) {
#define STATUS_KEY(name, value, key, phrase, ...) \
	case SKACCEL_##name:                      \
		return key;
		SKACCEL_STATUS_LIST(STATUS_KEY)
#undef STATUS_KEY
	}
	return NULL;
}
