/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The helper's command line: defaults, strict parsing and the --help text. */
#ifndef HELPERD_OPTIONS_H
#define HELPERD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "helperd/log.h"
#include "helperd/metrics_http.h"

#define HELPERD_DEFAULT_PIN_DIR "/sys/fs/bpf/skaccel"
#define HELPERD_DEFAULT_MAX_CLIENTS 1024
/* A quarter: one user cannot take every slot, and a big prefork server still fits. */
#define HELPERD_DEFAULT_MAX_CLIENTS_PER_USER 256
#define HELPERD_DEFAULT_MAX_PER_USER 4096
#define HELPERD_MAX_CLIENTS_LIMIT (1u << 20)
/* Bounds of --max-socks: a few connections for tests, and the registry stays below 100 MB. */
#define HELPERD_MIN_SOCKS 16
#define HELPERD_MAX_SOCKS_LIMIT (1u << 21)
/* node_exporter's own scrape interval is typically 15 s or more: newer is not read. */
#define HELPERD_DEFAULT_METRICS_INTERVAL 15
#define HELPERD_MAX_METRICS_INTERVAL 3600

enum helperd_mode {
	HELPERD_RUN,	      /* the daemon */
	HELPERD_STATS,	      /* --stats: print counters and live sockets, exit */
	HELPERD_UNPIN,	      /* --unpin: remove the pinned objects, exit */
	HELPERD_CHECK_CONFIG, /* --check-config: validate the policy file, exit */
	HELPERD_HELP,	      /* --help */
	HELPERD_VERSION,      /* --version */
};

struct helperd_options {
	enum helperd_mode mode;
	const char *socket_path;
	const char *pin_dir;
	const char *config_path; /* the policy file (policy.h) */
	bool config_explicit;	 /* named by --config or --check-config: it must exist */
	enum helperd_log_level log_level;
	unsigned int max_clients;
	unsigned int max_clients_per_user;
	unsigned int max_per_user;
	bool max_per_user_given; /* on the command line: it beats the policy file's global value */
	unsigned int max_socks;	 /* size of the sockhash and its maps when created */
	uint64_t rx_budget;
	uint64_t rx_resume;
	uint32_t small_msg;
	unsigned int lock_wait_us; /* --lock-wait */
	bool lock_wait_given;	   /* else the default for the CPUs online (main.c) */
	bool disable;
	bool cross_netns; /* --cross-netns=on: pairing across network namespaces */
	bool json;
	const char *user;	    /* --user: serve as this user once set up; NULL: stay root */
	const char *metrics_listen; /* --metrics-listen; NULL: no endpoint */
	struct helperd_metrics_addr metrics_addr; /* ... parsed */
	bool metrics_allow_remote;		  /* a non-loopback --metrics-listen is wanted */
	const char *metrics_textfile;		  /* --metrics-textfile; NULL: none */
	unsigned int metrics_interval;		  /* seconds between textfile writes */
	bool metrics_interval_given;
};

/*
 * Parse argv into *opts (defaults first). Returns 0, or -EINVAL with a one-line reason in
 * err. Resets getopt's state on entry, so it may be called more than once (unit tests).
 */
int helperd_options_parse(struct helperd_options *opts, int argc, char **argv, char *err,
			  size_t errlen);

/* "error", "warn", "info", "debug"; 0 or -EINVAL. */
int helperd_parse_log_level(const char *s, enum helperd_log_level *level);

void helperd_usage(FILE *out, const char *prog);

#endif /* HELPERD_OPTIONS_H */
