// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests for the wording of the kernel self-test's failures (selftest.h), on made-up
 * streams and counters, so no misbehaving kernel is needed; with --live PIN_DIR (root) it
 * runs the real self-test against a running helper's pinned maps instead.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <linux/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/skaccel_maps.h"
#include "helperd/maps.h"
#include "helperd/selftest.h"
#include "tests/unit/skt_assert.h"

#define CONTAINS(detail, part)                        \
	ASSERT_TRUE(strstr((detail), (part)) != NULL, \
		    skt_fmt("\"%s\" not in \"%s\"", (part), (detail)))

static uint8_t stream[HELPERD_SELFTEST_MAX_STREAM], got[2 * HELPERD_SELFTEST_MAX_STREAM];
static char detail[320];

/* got = the stream's bytes [from, to) appended at *len. */
static void take(uint8_t base, size_t from, size_t to, size_t *len)
{
	size_t i;

	for (i = from; i < to; i++)
		got[(*len)++] = helperd_selftest_byte(base, i);
}

static int check(size_t got_len, size_t want_len, size_t switch_at, uint8_t base)
{
	detail[0] = 0;
	return helperd_selftest_check_stream(got, got_len, want_len, switch_at, base, detail,
					     sizeof(detail));
}

static void test_byte_names_offset(void)
{
	size_t i;

	/* Any base: 256 bytes, each value once, and the value minus base is the offset. */
	for (i = 0; i < HELPERD_SELFTEST_MAX_STREAM; i++)
		stream[i] = helperd_selftest_byte(0xc3, i);
	for (i = 0; i < HELPERD_SELFTEST_MAX_STREAM; i++)
		ASSERT_EQ((uint8_t)(stream[i] - 0xc3), i, "(uint8_t)(stream[i] - 0xc3)");
	ASSERT_EQ(helperd_selftest_byte(0x80, 0x80), 0, "helperd_selftest_byte");
}

static void test_same_stream(void)
{
	size_t n = 0;

	take(0x80, 0, 216, &n);
	ASSERT_EQ(check(n, 216, 96, 0x80), 0, "check");
	ASSERT_STREQ(detail, "", "detail");
	n = 0;
	take(0x11, 0, 256, &n);
	ASSERT_EQ(check(n, 256, 0, 0x11), 0, "check");
	ASSERT_EQ(check(0, 0, 0, 0), 0, "check");
}

static void test_lost(void)
{
	size_t n = 0;

	take(0, 0, 100, &n);
	ASSERT_EQ(check(n, 216, 96, 0), -EPROTO, "check");
	ASSERT_STREQ(detail,
		     "received 100 of 216 bytes: the redirected bytes from byte 100 never arrived",
		     "detail");
	ASSERT_EQ(check(50, 216, 96, 0), -EPROTO, "check");
	ASSERT_STREQ(detail,
		     "received 50 of 216 bytes: the bytes sent by TCP, and the "
		     "redirected ones, from byte 50 never arrived",
		     "detail");
	ASSERT_EQ(check(0, 32, 0, 0), -EPROTO, "check");
	ASSERT_STREQ(detail,
		     "received 0 of 32 bytes: the redirected bytes from byte 0 never arrived",
		     "detail");
	ASSERT_EQ(check(10, 32, 32, 0), -EPROTO, "check"); /* no switch: all by TCP */
	ASSERT_STREQ(detail, "received 10 of 32 bytes: the bytes from byte 10 never arrived",
		     "detail");
}

static void test_overtaken(void)
{
	size_t n = 0;

	/* KERNEL-NOTES §3.1: redirected bytes read ahead of older TCP bytes. */
	take(0, 96, 216, &n);
	take(0, 0, 96, &n);
	ASSERT_EQ(check(n, 216, 96, 0), -EPROTO, "check");
	ASSERT_STREQ(detail,
		     "byte 0 is byte 96 of the stream: a redirected byte overtook 96 "
		     "bytes sent by TCP before the switch",
		     "detail");
	/* The same, after the first 48 TCP bytes came right. */
	n = 0;
	take(0x80, 0, 48, &n);
	take(0x80, 96, 216, &n);
	take(0x80, 48, 96, &n);
	ASSERT_EQ(check(n, 216, 96, 0x80), -EPROTO, "check");
	ASSERT_STREQ(detail,
		     "byte 48 is byte 96 of the stream: a redirected byte overtook 48 "
		     "bytes sent by TCP before the switch",
		     "detail");
}

static void test_reordered(void)
{
	size_t n = 0;

	/* Among TCP bytes, or among redirected ones: not a switch problem. */
	take(0, 0, 120, &n);
	take(0, 160, 216, &n);
	take(0, 120, 160, &n);
	ASSERT_EQ(check(n, 216, 96, 0), -EPROTO, "check");
	ASSERT_STREQ(detail,
		     "byte 120 is byte 160 of the stream: the 40 bytes before it were "
		     "lost or reordered",
		     "detail");
	n = 0;
	take(0, 0, 10, &n);
	take(0, 20, 96, &n);
	ASSERT_EQ(check(n, 96, 96, 0), -EPROTO, "check");
	CONTAINS(detail, "byte 10 is byte 20 of the stream: the 10 bytes before it were lost");
}

static void test_duplicated(void)
{
	size_t n = 0;

	/* KERNEL-NOTES §3.4: a partly read skb queued again whole. */
	take(0, 0, 100, &n);
	take(0, 90, 216, &n);
	ASSERT_EQ(check(n, 216, 96, 0), -EPROTO, "check");
	ASSERT_STREQ(detail,
		     "byte 100 is byte 90 of the stream again (duplicated); 226 bytes "
		     "received, 216 sent",
		     "detail");
	/* Everything, then some of it again. */
	n = 0;
	take(0x80, 0, 216, &n);
	take(0x80, 0, 10, &n);
	ASSERT_EQ(check(n, 216, 96, 0x80), -EPROTO, "check");
	ASSERT_STREQ(detail,
		     "received 226 bytes, 10 more than sent: byte 216 is byte 0 of the "
		     "stream again (duplicated)",
		     "detail");
}

static void test_corrupted(void)
{
	size_t n = 0;

	take(0, 0, 64, &n);
	got[5] = 0xff;
	ASSERT_EQ(check(n, 64, 0, 0), -EPROTO, "check");
	ASSERT_STREQ(detail,
		     "byte 5 is 0xff, expected 0x05, and no byte of the 64-byte stream "
		     "has that value (corrupted)",
		     "detail");
	n = 0;
	take(0, 0, 64, &n);
	got[n++] = 0xee;
	ASSERT_EQ(check(n, 64, 0, 0), -EPROTO, "check");
	ASSERT_STREQ(detail,
		     "received 65 bytes, 1 more than sent: byte 64 is 0xee, no byte of "
		     "the stream (corrupted)",
		     "detail");
}

static void test_short_detail_buffer(void)
{
	char small[16];
	size_t n = 0;

	memset(small, 'x', sizeof(small));
	take(0, 96, 216, &n);
	ASSERT_EQ(helperd_selftest_check_stream(got, n, 216, 96, 0, small, sizeof(small)), -EPROTO,
		  "helperd_selftest_check_stream");
	ASSERT_EQ(strlen(small), sizeof(small) - 1, "strlen");
}

static void test_redirect(void)
{
	struct skaccel_conn c;

	memset(&c, 0, sizeof(c));
	c.tx_redir_bytes = 120;
	ASSERT_EQ(helperd_selftest_check_redirect(&c, 120, detail, sizeof(detail)), 0,
		  "helperd_selftest_check_redirect");

	/* The brief's wording, the fallback the programs recorded, and the TCP bytes. */
	c.tx_redir_bytes = 0;
	c.tx_tcp_bytes = 168;
	c.last_fallback = SKACCEL_CNT_FB_PEER_UNSEEN;
	ASSERT_EQ(helperd_selftest_check_redirect(&c, 120, detail, sizeof(detail)), -EPROTO,
		  "helperd_selftest_check_redirect");
	ASSERT_STREQ(detail,
		     "sk_msg redirect did not take effect: 0 of 120 bytes sent since "
		     "pairing were redirected, 168 bytes went by TCP (last fallback: "
		     "fb_peer_unseen)",
		     "detail");
	c.tx_redir_bytes = 40;
	c.last_fallback = SKACCEL_CNT_FB_INFLIGHT;
	ASSERT_EQ(helperd_selftest_check_redirect(&c, 120, detail, sizeof(detail)), -EPROTO,
		  "helperd_selftest_check_redirect");
	CONTAINS(detail, "40 of 120 bytes");
	CONTAINS(detail, "(last fallback: fb_inflight)");
	/* Not a fallback reason (0, or a data counter): "none". */
	c.last_fallback = SKACCEL_CNT_REDIR_BYTES;
	helperd_selftest_check_redirect(&c, 120, detail, sizeof(detail));
	CONTAINS(detail, "(last fallback: none)");
	c.tx_redir_bytes = 121;
	ASSERT_EQ(helperd_selftest_check_redirect(&c, 120, detail, sizeof(detail)), -EPROTO,
		  "helperd_selftest_check_redirect");
	ASSERT_STREQ(detail,
		     "the programs counted 121 redirected bytes, more than the 120 sent "
		     "since pairing",
		     "detail");
}

/* --live PIN_DIR [REPEAT]: the real test against a helper's maps (needs root). */
static int live(const char *pin_dir, int repeat)
{
	struct helperd_selftest_report rep;
	struct helperd_maps maps;
	const char *failed = NULL;
	uint64_t max_ns = 0, total_ns = 0;
	int i, r, failures = 0, pair_prog;
	char path[PATH_MAX];

	r = helperd_maps_open_pinned(&maps, pin_dir, &failed);
	if (r) {
		fprintf(stderr, "Failed to open pinned map %s/%s: %s\n", pin_dir,
			failed ? failed : "?", strerror(-r));
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", pin_dir, HELPERD_PIN_PROG_PAIR);
	pair_prog = bpf_obj_get(path);
	if (pair_prog < 0) {
		fprintf(stderr, "Failed to open pinned program %s: %s\n", path, strerror(errno));
		helperd_maps_close(&maps);
		return 2;
	}
	for (i = 0; i < repeat; i++) {
		r = helperd_selftest(&maps, pair_prog, &rep);
		total_ns += rep.took_ns;
		if (rep.took_ns > max_ns)
			max_ns = rep.took_ns;
		if (r) {
			failures++;
			printf("Kernel self-test failed: %s: %s (%s, run %d, %.1f ms)\n",
			       rep.step ? rep.step : "?", rep.detail, strerror(-r), i + 1,
			       (double)rep.took_ns / 1e6);
		}
	}
	helperd_maps_close(&maps);
	close(pair_prog);
	if (!failures)
		printf("Kernel self-test passed %d times (mean %.3f ms, max %.3f ms)\n", repeat,
		       (double)total_ns / repeat / 1e6, (double)max_ns / 1e6);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--live") == 0)
		return live(argv[2], argc >= 4 ? atoi(argv[3]) > 0 ? atoi(argv[3]) : 1 : 1);
	if (argc > 1) {
		fprintf(stderr, "usage: %s [--live PIN_DIR [REPEAT]]\n", argv[0]);
		return 2;
	}
	test_byte_names_offset();
	test_same_stream();
	test_lost();
	test_overtaken();
	test_reordered();
	test_duplicated();
	test_corrupted();
	test_short_detail_buffer();
	test_redirect();
	return skt_summary();
}
