// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests for the helper's name tables: every counter and status has a distinct name,
 * and the map table (pin names, layouts) matches the BPF object this build embeds.
 */
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "common/skaccel_maps.h"
#include "common/skaccel_proto.h"
#include "helperd/maps.h"
#include "helperd/names.h"
#include "skaccel.skel.h"
#include "tests/unit/skt_assert.h"

#define STATUS_MIN SKACCEL_STATUS_MIN
#define STATUS_MAX SKACCEL_STATUS_MAX

static void test_counters(void)
{
	unsigned int i, j, fallbacks = 0;

	for (i = 1; i < SKACCEL_CNT_MAX; i++) {
		const char *key = helperd_counter_key(i), *phrase = helperd_counter_phrase(i);

		ASSERT_TRUE(key && phrase, skt_fmt("counter %u has no name", i));
		if (!key || !phrase)
			continue;
		for (j = 1; j < i; j++)
			ASSERT_TRUE(strcmp(key, helperd_counter_key(j)) != 0,
				    skt_fmt("counters %u and %u: %s", i, j, key));
		/* Fallback counters are exactly those named fb_*: what last_fallback holds. */
		ASSERT_EQ(helperd_counter_is_fallback(i), strncmp(key, "fb_", 3) == 0,
			  "helperd_counter_is_fallback");
		fallbacks += helperd_counter_is_fallback(i);
	}
	ASSERT_EQ(fallbacks, SKACCEL_CNT_FB_LEFT_CONN - SKACCEL_CNT_FB_DISABLED + 1, "fallbacks");
	ASSERT_STREQ(helperd_counter_key(SKACCEL_CNT_REDIR_BYTES), "redir_bytes",
		     "helperd_counter_key");
	ASSERT_TRUE(helperd_counter_key(SKACCEL_CNT_MAX) == NULL, "helperd_counter_key");
	ASSERT_FALSE(helperd_counter_is_fallback(0), "helperd_counter_is_fallback");
}

static void test_statuses(void)
{
	int32_t s, t;

	for (s = STATUS_MIN; s <= STATUS_MAX; s++) {
		const char *key = helperd_status_key(s);

		ASSERT_TRUE(key != NULL, skt_fmt("status %d has no key", (int)s));
		ASSERT_TRUE(strcmp(skaccel_status_str(s), "unknown status") != 0,
			    skt_fmt("status %d unnamed", (int)s));
		/* Every status fits skaccel_regcnt. */
		ASSERT_TRUE(s + SKACCEL_REGCNT_BIAS >= 0 &&
				s + SKACCEL_REGCNT_BIAS < SKACCEL_REGCNT_MAX,
			    skt_fmt("status %d outside skaccel_regcnt", (int)s));
		for (t = STATUS_MIN; t < s && key; t++)
			ASSERT_TRUE(strcmp(key, helperd_status_key(t)) != 0,
				    skt_fmt("statuses %d and %d: %s", (int)s, (int)t, key));
	}
	ASSERT_TRUE(helperd_status_key(STATUS_MIN - 1) == NULL, "helperd_status_key");
	ASSERT_TRUE(helperd_status_key(STATUS_MAX + 1) == NULL, "helperd_status_key");
}

/* Opening (not loading) the skeleton needs no privileges. */
static void test_map_table_matches_object(void)
{
	struct skaccel *skel;
	struct bpf_map *map;
	unsigned int pinned = 0, legacy = 0;
	size_t i;

	libbpf_set_print(NULL);
	skel = skaccel__open();
	ASSERT_TRUE(skel != NULL, "skel != NULL");
	if (!skel)
		return;
	bpf_object__for_each_map(map, skel->obj)
	{
		const struct helperd_map_desc *d = NULL;

		if (!bpf_map__pin_path(map))
			continue;
		pinned++;
		/* Still in the object, no longer opened by the helper; --unpin knows them. */
		for (i = 0; i < HELPERD_NR_LEGACY_MAPS; i++)
			if (strcmp(helperd_legacy_maps[i], bpf_map__name(map)) == 0)
				break;
		if (i < HELPERD_NR_LEGACY_MAPS) {
			legacy++;
			continue;
		}
		for (i = 0; i < HELPERD_NR_MAPS; i++)
			if (strcmp(helperd_map_descs[i].name, bpf_map__name(map)) == 0)
				d = &helperd_map_descs[i];
		ASSERT_TRUE(d != NULL, skt_fmt("pinned map %s missing from helperd_map_descs",
					       bpf_map__name(map)));
		if (!d)
			continue;
		ASSERT_EQ(bpf_map__type(map), d->type, "bpf_map__type");
		ASSERT_EQ(bpf_map__key_size(map), d->key_size, "bpf_map__key_size");
		ASSERT_EQ(bpf_map__value_size(map), d->value_size, "bpf_map__value_size");
	}
	ASSERT_EQ(pinned - legacy, HELPERD_NR_MAPS, "pinned - legacy");
	skaccel__destroy(skel);
}

int main(void)
{
	test_counters();
	test_statuses();
	test_map_table_matches_object();
	return skt_summary();
}
