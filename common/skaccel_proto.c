// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Pure helpers for the shim <-> helper protocol: status names and message validation. */
#include <errno.h>
#include <string.h>

#include "common/skaccel_proto.h"

const char *skaccel_status_str(int32_t status)
{
	switch (status) {
#define STATUS_PHRASE(name, value, key, phrase, ...) \
	case SKACCEL_##name:                         \
		return phrase;
		SKACCEL_STATUS_LIST(STATUS_PHRASE)
#undef STATUS_PHRASE
	}
	return "unknown status";
}

void skaccel_req_init(struct skaccel_req *req, enum skaccel_op op, uint32_t seq)
{
	memset(req, 0, sizeof(*req));
	req->magic = SKACCEL_MAGIC;
	req->version = SKACCEL_PROTO_VERSION;
	req->op = (uint16_t)op;
	req->seq = seq;
}

int32_t skaccel_req_validate(const void *buf, long len, int nfds)
{
	struct skaccel_req req;

	if (!buf || len != (long)sizeof(req))
		return SKACCEL_ERR_BAD_REQUEST;
	memcpy(&req, buf, sizeof(req)); /* buf may be unaligned */
	if (req.magic != SKACCEL_MAGIC)
		return SKACCEL_ERR_BAD_REQUEST;
	if (req.flags & ~(req.op == SKACCEL_OP_REGISTER ? SKACCEL_REQ_IF_PEER_WAITS : 0u))
		return SKACCEL_ERR_BAD_REQUEST;
	if (req.version != SKACCEL_PROTO_VERSION)
		return SKACCEL_ERR_VERSION;
	switch (req.op) {
	case SKACCEL_OP_PING:
		return nfds == 0 ? SKACCEL_OK_ACCELERATED : SKACCEL_ERR_TOO_MANY_FDS;
	case SKACCEL_OP_REGISTER:
	case SKACCEL_OP_PAIRED:
		if (nfds == 0)
			return SKACCEL_ERR_NO_FD;
		return nfds == 1 ? SKACCEL_OK_ACCELERATED : SKACCEL_ERR_TOO_MANY_FDS;
	}
	return SKACCEL_ERR_UNKNOWN_OP;
}

int skaccel_reply_check(const struct skaccel_reply *rep, long len, const struct skaccel_req *req)
{
	if (len != (long)sizeof(*rep) || rep->magic != SKACCEL_MAGIC ||
	    rep->version != SKACCEL_PROTO_VERSION || rep->op != req->op || rep->seq != req->seq)
		return -EPROTO;
	return 0;
}
