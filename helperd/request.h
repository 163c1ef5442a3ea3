/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* One request of one client: read, validate, dispatch, and finish (close, count, log, reply). */
#ifndef HELPERD_REQUEST_H
#define HELPERD_REQUEST_H

struct helperd_daemon;
struct helperd_client;

/*
 * Read and answer one message of client c. 0: answered; -EAGAIN: nothing to read;
 * -ECONNRESET: the client closed; -EMSGSIZE: it sent truncated control data (logged);
 * -ENOBUFS: it does not read its replies; another -errno: reading or replying failed.
 * Every value but 0 and -EAGAIN means: drop the client.
 */
int helperd_request_serve(struct helperd_daemon *d, struct helperd_client *c);

#endif /* HELPERD_REQUEST_H */
