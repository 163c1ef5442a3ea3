// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The names table for enum skaccel_counter and the JSON keys of enum skaccel_status. */
#include <linux/types.h>
#include <stddef.h>

#include "names.h"
#include "skaccel_maps.h"
#include "skaccel_proto.h"

static const struct {
	const char *key;
	const char *phrase;
	int fallback;
} counters[SKACCEL_CNT_MAX] = {
	[SKACCEL_CNT_NONE] = { "none", "(unused)", 0 },
	[SKACCEL_CNT_REDIR_BYTES] = { "redir_bytes", "bytes redirected peer-to-peer", 0 },
	[SKACCEL_CNT_REDIR_MSGS] = { "redir_msgs", "messages redirected peer-to-peer", 0 },
	[SKACCEL_CNT_TCP_BYTES] = { "tcp_bytes", "bytes registered sockets sent through TCP", 0 },
	[SKACCEL_CNT_TCP_MSGS] = { "tcp_msgs", "messages registered sockets sent through TCP", 0 },
	[SKACCEL_CNT_FB_DISABLED] = { "fb_disabled", "fallbacks: acceleration disabled", 1 },
	[SKACCEL_CNT_FB_UNPAIRED] = { "fb_unpaired", "fallbacks: peer not registered (yet)", 1 },
	[SKACCEL_CNT_FB_INFLIGHT] = { "fb_inflight",
				      "fallbacks: unacked TCP bytes in flight (would reorder)", 1 },
	[SKACCEL_CNT_FB_SHUTDOWN] = { "fb_shutdown", "fallbacks: after shutdown(SHUT_WR)", 1 },
	[SKACCEL_CNT_FB_BACKLOG] = { "fb_backlog", "fallbacks: reader too far behind (budget)", 1 },
	[SKACCEL_CNT_FB_REDIR_FAILED] = { "fb_redir_failed", "fallbacks: peer left the sockhash",
					  1 },
	[SKACCEL_CNT_FB_NO_TCP] = { "fb_no_tcp", "fallbacks: not a full TCP socket", 1 },
	[SKACCEL_CNT_FB_PEER_UNSEEN] = { "fb_peer_unseen",
					 "fallbacks: peer's struct sock not verified as its own",
					 1 },
	[SKACCEL_CNT_FB_SMALL_BEHIND] = { "fb_small_behind",
					  "fallbacks: small write to a reader behind (TCP "
					  "coalesces)",
					  1 },
	[SKACCEL_CNT_FB_RCVLOWAT] = { "fb_rcvlowat", "fallbacks: reader's SO_RCVLOWAT above 1", 1 },
	[SKACCEL_CNT_FB_LEFT_CONN] = { "fb_left_conn",
				       "fallbacks: this socket or its peer left its connection",
				       1 },
	[SKACCEL_CNT_SKB_MSGS] = { "skb_msgs", "TCP segments seen by the sk_skb verdict", 0 },
	[SKACCEL_CNT_SKB_BYTES] = { "skb_bytes", "TCP bytes seen by the sk_skb verdict", 0 },
	[SKACCEL_CNT_SKB_OVERLAP_BYTES] = { "skb_overlap_bytes",
					    "TCP bytes queued twice, cut by the sk_skb verdict",
					    0 },
	[SKACCEL_CNT_SKB_TRIM_FAILED] = { "skb_trim_failed",
					  "segments whose twice-queued bytes could not be cut", 0 },
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
	case SKACCEL_OK_ACCELERATED:
		return "accelerated";
	case SKACCEL_OK_WAITING_PEER:
		return "waiting_peer";
	case SKACCEL_OK_PONG:
		return "pong";
	case SKACCEL_ERR_BAD_REQUEST:
		return "bad_request";
	case SKACCEL_ERR_VERSION:
		return "version";
	case SKACCEL_ERR_UNKNOWN_OP:
		return "unknown_op";
	case SKACCEL_ERR_NO_FD:
		return "no_fd";
	case SKACCEL_ERR_TOO_MANY_FDS:
		return "too_many_fds";
	case SKACCEL_ERR_NOT_SOCKET:
		return "not_socket";
	case SKACCEL_ERR_NOT_TCP:
		return "not_tcp";
	case SKACCEL_ERR_NOT_ESTABLISHED:
		return "not_established";
	case SKACCEL_ERR_NOT_LOCAL:
		return "not_local";
	case SKACCEL_ERR_ALREADY:
		return "already";
	case SKACCEL_ERR_UNSUPPORTED:
		return "unsupported";
	case SKACCEL_ERR_POLICY:
		return "policy";
	case SKACCEL_ERR_QUOTA:
		return "quota";
	case SKACCEL_ERR_MAP_FULL:
		return "map_full";
	case SKACCEL_ERR_DISABLED:
		return "disabled";
	case SKACCEL_ERR_TRUNCATED:
		return "truncated";
	case SKACCEL_ERR_INTERNAL:
		return "internal";
	case SKACCEL_ERR_TOO_LATE:
		return "too_late";
	case SKACCEL_ERR_NOT_OWNER:
		return "not_owner";
	case SKACCEL_ERR_OTHER_NETNS:
		return "other_netns";
	}
	return NULL;
}
