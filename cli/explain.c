// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `skaccel explain PID`: is it working for this process? Whether the shim is mapped in it,
 * which helper socket it talks to (its environment at exec), and for each of its TCP
 * sockets what skaccel made of it. Its descriptors name socket inodes (/proc/PID/fd);
 * sock_diag, run in the process's network namespace, maps inodes to cookies; the cookies
 * are the keys of the maps.
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/fmt.h"
#include "cli/sockdiag.h"
#include "common/number.h"
#include "common/skaccel_proto.h"
#include "helperd/text.h"
#include "helperd/tuple.h"

struct proc_info {
	unsigned int pid;
	char comm[64];
	char shim[512];	  /* path of the mapped libskaccel.so, "" if none */
	char socket[256]; /* SKACCEL_SOCKET, "" if unset */
	bool disabled;	  /* SKACCEL_DISABLE set (to anything but 0) */
	bool preload;	  /* LD_PRELOAD names libskaccel */
	bool other_netns;
};

struct proc_fd {
	int fd;
	__u32 inode;
};

/* Read a small /proc file whole; its length, or -errno. */
static ssize_t read_file(const char *path, char *buf, size_t len)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)total < len - 1 && (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

static int read_proc(struct proc_info *p)
{
	char path[64], *buf, *line, *save = NULL;
	size_t cap = 1 << 20;
	ssize_t n, i;

	snprintf(path, sizeof(path), "/proc/%u/comm", p->pid);
	n = read_file(path, p->comm, sizeof(p->comm));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	p->comm[strcspn(p->comm, "\n")] = '\0';
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%u/maps", p->pid);
	n = read_file(path, buf, cap);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *lib = strstr(line, "/libskaccel.so");

		if (lib) {
			char *start = strchr(line, '/');

			snprintf(p->shim, sizeof(p->shim), "%s", start ? start : lib);
			break;
		}
	}
	snprintf(path, sizeof(path), "/proc/%u/environ", p->pid);
	n = read_file(path, buf, cap);
	for (i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) {
		const char *e = buf + i;

		if (!strncmp(e, SKACCEL_SOCKET_ENV "=", sizeof(SKACCEL_SOCKET_ENV)))
			snprintf(p->socket, sizeof(p->socket), "%s",
				 e + sizeof(SKACCEL_SOCKET_ENV));
		else if (!strncmp(e, "SKACCEL_DISABLE=", 16))
			p->disabled = e[16] && strcmp(e + 16, "0");
		else if (!strncmp(e, "LD_PRELOAD=", 11))
			p->preload = strstr(e, "libskaccel") != NULL;
	}
	free(buf);
	return 0;
}

/* Its socket descriptors; -EACCES when we may not look (another user's, no privilege). */
static int read_fds(unsigned int pid, struct proc_fd **out, size_t *n)
{
	char path[64], target[64];
	size_t cap = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		unsigned int inode;
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		len = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%u]", &inode) != 1)
			continue;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			void *p = realloc(*out, ncap * sizeof(**out));

			if (!p) {
				closedir(d);
				return -ENOMEM;
			}
			*out = p;
			cap = ncap;
		}
		(*out)[*n].fd = atoi(de->d_name);
		(*out)[(*n)++].inode = inode;
	}
	closedir(d);
	return 0;
}

/* Enter the process's network namespace if it is not ours; 0 or -errno. */
static int enter_netns(struct proc_info *p)
{
	struct stat mine, theirs;
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", p->pid);
	if (stat("/proc/self/ns/net", &mine) < 0 || stat(path, &theirs) < 0)
		return -errno;
	if (mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev)
		return 0;
	p->other_netns = true;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Is addr one of the addresses of this network namespace (or loopback)? */
static bool addr_is_local(const __u8 addr[16])
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (helperd_addr_is_loopback(addr))
		return true;
	if (getifaddrs(&ifa) < 0)
		return true; /* cannot tell: do not claim it is remote */
	for (i = ifa; i && !found; i = i->ifa_next) {
		__u8 a[16];

		if (i->ifa_addr &&
		    helperd_addr_from_sockaddr(a, i->ifa_addr,
					       i->ifa_addr->sa_family == AF_INET
						   ? sizeof(struct sockaddr_in)
						   : sizeof(struct sockaddr_in6)) == 0)
			found = !memcmp(a, addr, 16);
	}
	freeifaddrs(ifa);
	return found;
}

/* What skaccel made of one socket: *key a stable name, text for people. */
static void verdict(const struct helperd_maps *maps, const struct proc_info *p,
		    const struct cli_diag_sock *d, const char **key, char *text, size_t len)
{
	struct cli_sock s = { .cookie = d->cookie };
	__u64 v;
	char why[160];

	if (bpf_map_lookup_elem(maps->conns, &d->cookie, &s.conn) == 0 &&
	    bpf_map_lookup_elem(maps->socks, &d->cookie, &v) == 0) {
		s.registered = true;
		if (bpf_map_lookup_elem(maps->peers, &d->cookie, &s.peer) == 0)
			s.peer_live = bpf_map_lookup_elem(maps->socks, &s.peer, &v) == 0;
		if (cli_sock_state(&s, key, why, sizeof(why)) == CLI_STATE_FAST) {
			*key = "fast_path";
			snprintf(text, len, "fast path");
		} else {
			snprintf(text, len, "TCP: %s", why);
		}
		return;
	}
	if (bpf_map_lookup_elem(maps->refused, &d->cookie, &s.meta) == 0) {
		s.refused = s.have_meta = true;
		cli_sock_state(&s, key, why, sizeof(why));
		snprintf(text, len, "TCP: %s", why);
		return;
	}
	if (d->state == 10) { /* TCP_LISTEN */
		*key = "listening";
		snprintf(text, len, "listening (its accepted connections are registered, not it)");
	} else if (d->state != 1) { /* TCP_ESTABLISHED */
		*key = "not_established";
		snprintf(text, len, "not registered: %s", cli_tcp_state_name(d->state));
	} else if (!p->shim[0]) {
		*key = "shim_not_loaded";
		snprintf(text, len, "not registered: the shim is not loaded in this process");
	} else if (p->disabled) {
		*key = "shim_disabled";
		snprintf(text, len, "not registered: SKACCEL_DISABLE is set");
	} else if (!addr_is_local(d->remote_addr)) {
		*key = "not_local";
		snprintf(text, len,
			 "TCP: peer on another host (only local connections are "
			 "accelerated)");
	} else {
		*key = "not_registered";
		snprintf(text, len,
			 "not registered (made before the shim was loaded, or the "
			 "helper was not reachable then)");
	}
}

static const char *const heads[] = { "FD", "LOCAL", "REMOTE", "TCP-STATE", "SKACCEL" };
static const bool right[] = { true, false, false, false, false };

static int explain(const char *pin_dir, unsigned int pid, bool json)
{
	struct proc_info p = { .pid = pid };
	struct helperd_maps maps;
	struct cli_diag_sock *socks = NULL;
	struct proc_fd *fds = NULL;
	size_t nsocks = 0, nfds = 0, i, j, shown = 0;
	struct cli_table tab;
	int r, code;

	r = read_proc(&p);
	if (r == -ESRCH || r == -ENOENT) {
		fprintf(stderr, "skaccel explain: no process %u\n", pid);
		return CLI_EXIT_NO_PROCESS;
	}
	if (!r)
		r = read_fds(pid, &fds, &nfds);
	if (r == -EACCES || r == -EPERM) {
		fprintf(stderr,
			"skaccel explain: permission denied reading /proc/%u: run it as root or "
			"as the process's user\n",
			pid);
		return CLI_EXIT_PERMISSION;
	}
	if (r) {
		fprintf(stderr, "skaccel explain: Failed to read /proc/%u: %s\n", pid,
			strerror(-r));
		free(fds);
		return CLI_EXIT_FAILURE;
	}
	code = cli_open_maps(&maps, pin_dir, "skaccel explain");
	if (code) {
		free(fds);
		return code;
	}
	r = enter_netns(&p);
	if (r) {
		fprintf(stderr,
			"skaccel explain: Failed to enter the network namespace of %u: %s (run it "
			"as root)\n",
			pid, strerror(-r));
		code = r == -EPERM ? CLI_EXIT_PERMISSION : CLI_EXIT_FAILURE;
		goto out;
	}
	r = cli_diag_dump(&socks, &nsocks);
	if (r) {
		fprintf(stderr, "skaccel explain: Failed to list TCP sockets (sock_diag): %s\n",
			strerror(-r));
		code = CLI_EXIT_FAILURE;
		goto out;
	}

	if (json) {
		printf("{\"pid\": %u, \"comm\": ", pid);
		helperd_json_string(stdout, p.comm);
		printf(", \"shim_loaded\": %s, \"shim\": ", p.shim[0] ? "true" : "false");
		helperd_json_string(stdout, p.shim);
		printf(", \"helper_socket\": ");
		helperd_json_string(stdout, p.socket[0] ? p.socket : SKACCEL_DEFAULT_SOCKET);
		printf(", \"skaccel_disable\": %s, \"other_netns\": %s, \"connections\": [",
		       p.disabled ? "true" : "false", p.other_netns ? "true" : "false");
	} else {
		printf("process %u (%s)\n", pid, p.comm);
		if (p.shim[0])
			printf("  shim:    loaded (%s)\n", p.shim);
		else
			printf("  shim:    NOT loaded%s\n",
			       p.preload
				   ? " (LD_PRELOAD names it, but it is not mapped)"
				   : " (start it with skaccel-run, or LD_PRELOAD=libskaccel.so)");
		printf("  helper:  %s (%s)%s\n", p.socket[0] ? p.socket : SKACCEL_DEFAULT_SOCKET,
		       p.socket[0] ? "SKACCEL_SOCKET" : "the default",
		       p.disabled ? "; SKACCEL_DISABLE is set: the shim does nothing" : "");
		if (p.other_netns)
			printf("  netns:   its own network namespace (looked inside it)\n");
		cli_table_init(&tab, 5, heads, right);
	}
	for (i = 0; i < nfds; i++)
		for (j = 0; j < nsocks; j++) {
			char local[HELPERD_ADDR_STRLEN], remote[HELPERD_ADDR_STRLEN], fd[16],
			    text[200];
			const char *key, *row[5];

			if (socks[j].inode != fds[i].inode || !socks[j].inode)
				continue;
			helperd_addr_format(local, sizeof(local), socks[j].local_addr,
					    socks[j].local_port);
			helperd_addr_format(remote, sizeof(remote), socks[j].remote_addr,
					    socks[j].remote_port);
			verdict(&maps, &p, &socks[j], &key, text, sizeof(text));
			if (json) {
				printf("%s\n    {\"fd\": %d, \"cookie\": %llu, \"local\": \"%s\", "
				       "\"remote\": \"%s\", \"tcp_state\": \"%s\", \"verdict\": "
				       "\"%s\", "
				       "\"text\": ",
				       shown ? "," : "", fds[i].fd,
				       (unsigned long long)socks[j].cookie, local, remote,
				       cli_tcp_state_name(socks[j].state), key);
				helperd_json_string(stdout, text);
				printf("}");
			} else {
				snprintf(fd, sizeof(fd), "%d", fds[i].fd);
				row[0] = fd;
				row[1] = local;
				row[2] = remote;
				row[3] = cli_tcp_state_name(socks[j].state);
				row[4] = text;
				if (cli_table_add(&tab, row) < 0)
					code = CLI_EXIT_FAILURE;
			}
			shown++;
			break;
		}
	if (json) {
		printf("%s]}\n", shown ? "\n  " : "");
	} else {
		if (shown)
			cli_table_print(stdout, &tab);
		else
			printf("  no TCP sockets\n");
		cli_table_free(&tab);
	}
out:
	helperd_maps_close(&maps);
	free(socks);
	free(fds);
	return code;
}

int cli_explain_main(int argc, char **argv, const char *pin_dir)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	unsigned int pid;
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			cli_help(stdout, "explain");
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "Try 'skaccel help explain' for more information.\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || skaccel_parse_uint(argv[optind], 1, 4194304, &pid) < 0) {
		fprintf(stderr, "skaccel explain: takes one process id\n"
				"Try 'skaccel help explain' for more information.\n");
		return CLI_EXIT_USAGE;
	}
	return explain(pin_dir, pid, json);
}
