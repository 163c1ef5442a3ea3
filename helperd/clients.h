/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The client table: connections accepted, their slots, and who is at the other end. */
#ifndef HELPERD_CLIENTS_H
#define HELPERD_CLIENTS_H

#include <linux/types.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct helperd_daemon;

/*
 * The send buffer of a client connection (the kernel doubles it): about 22 replies of
 * 32 bytes at some 750 bytes of accounting each. The shim has one request in flight, so
 * this only bounds the kernel memory a client that never reads can pin (16 KiB, not
 * net.core.wmem_default's 208), before it is dropped.
 */
#define HELPERD_CLIENT_SNDBUF 8192
/* Distinct policy refusals logged per client connection (by rule); more are counted. */
#define HELPERD_CLIENT_LOGGED_RULES 4

struct helperd_client {
	int fd;	      /* -1: free slot */
	uint32_t gen; /* bumped on every reuse of the slot, part of the epoll token */
	uid_t uid;    /* SO_PEERCRED at accept */
	gid_t gid;
	pid_t pid;
	__u64 netns_cookie; /* SO_NETNS_COOKIE of the connection: the client's namespace */
	/* "pid 42 (uid 1000, /usr/bin/foo)": who log lines are about; set at accept. */
	char name[200];
	/* For the policy, read once per client the first time a policy needs them. */
	uint32_t policy_gen; /* the policy groups and logged_rules are for; 0: none yet */
	unsigned int n_groups;
	gid_t *groups; /* its groups (primary first) that the policy names */
	char *exe;     /* its executable; NULL: not read yet, or unknown */
	bool exe_read;
	/* What this client made us log: each refusal once (status, and policy rule). */
	uint32_t logged;				   /* bit -status */
	int16_t logged_rules[HELPERD_CLIENT_LOGGED_RULES]; /* rule index, -1: the default */
	unsigned int n_logged_rules;
	unsigned int unlogged; /* refusals not logged since they were logged once */
	/*
	 * Its fds the closer threads still owe a close (closer.h), its connection's included.
	 * Over HELPERD_CLOSER_PER_CLIENT, it is paused: not read until they are done. A slot
	 * dropped with closes owed is a zombie: not reused, and still its user's, until then.
	 */
	atomic_uint closes;
	bool paused;
	bool zombie;
};

/* Allocate the table of d->max_clients slots; 0 or -ENOMEM. */
int helperd_clients_init(struct helperd_daemon *d);

/* Close every client's connection and free the table. */
void helperd_clients_free(struct helperd_daemon *d);

/* Accept what the listener has pending (a bounded batch). */
void helperd_clients_accept(struct helperd_daemon *d);

/* The client an epoll token names, or NULL if its slot was dropped or reused since. */
struct helperd_client *helperd_client_of(struct helperd_daemon *d, uint64_t token);

/*
 * Must this client wait before its next request is read (its closes, or its user's, are
 * at the closer's limit)? Then it is paused, or dropped if it cannot be: true.
 */
bool helperd_client_hold(struct helperd_daemon *d, struct helperd_client *c);

/* Close its connection and release its slot (once the closes it caused are done). */
void helperd_client_drop(struct helperd_daemon *d, struct helperd_client *c);

/* The closer finished closes: resume paused clients, free zombie slots. */
void helperd_clients_closes_done(struct helperd_daemon *d);

/* Accept again if the listener was paused for lack of fds. */
void helperd_clients_resume_listener(struct helperd_daemon *d);

/*
 * What the policy in force needs to know about the client (its groups the policy names,
 * its executable if a rule names one): read once per client and policy, nothing for a
 * policy without group= or exe= rules.
 */
void helperd_client_identity(struct helperd_daemon *d, struct helperd_client *c);

#endif /* HELPERD_CLIENTS_H */
