// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tcp_echo_server: a plain TCP server (echo, sink or connect-request-response) that knows
 * nothing about skaccel; the demo and the benchmark run it with and without skaccel-run.
 *
 * One thread per connection with blocking sockets: a blocking recv() is the shortest path
 * from the kernel to the application, so latency numbers measure the transport and not an
 * event loop. crr connections are served on the accepting thread itself, one at a time, so
 * that a connection-rate benchmark measures connect/accept/close and not pthread_create().
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "examples/lib/net.h"

#define PROG "tcp_echo_server"
#define BUF_SIZE (256 * 1024)
/* A crr client that never closes must not wedge the (single) crr serving thread. */
#define CRR_TIMEOUT_SEC 10

enum mode { MODE_ECHO, MODE_SINK, MODE_CRR };

static enum mode mode = MODE_ECHO;
static bool verbose;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [-6] [-b ADDR] -p PORT [--mode echo|sink|crr] [--ready-file F]\n"
		"\n"
		"A plain TCP server for the skaccel demo and benchmark.\n"
		"\n"
		"  -4               IPv4 (default)\n"
		"  -6               IPv6 (an IPv6 socket also accepts IPv4 when bound to ::)\n"
		"  -b, --bind ADDR  address to listen on (default 127.0.0.1, or ::1 with -6)\n"
		"  -p, --port PORT  port to listen on; 0 picks a free one\n"
		"  -m, --mode MODE  echo: send back everything received (default)\n"
		"                   sink: discard everything; at EOF reply with the number of\n"
		"                         bytes received as an 8-byte big-endian integer\n"
		"                   crr:  read one request, reply with as many bytes, wait for\n"
		"                         EOF, close (one connection at a time)\n"
		"  --ready-file F   once listening, write the port number to F (atomically)\n"
		"  -v, --verbose    log each connection to stderr\n"
		"  -h, --help       this text\n"
		"\n"
		"Prints port=PORT on stdout once listening. Runs until SIGINT or SIGTERM.\n");
}

static void serve_echo(int fd, char *buf)
{
	ssize_t n;
	int err;

	while ((n = recv_some(fd, buf, BUF_SIZE, false, NULL)) > 0) {
		err = send_all(fd, buf, (size_t)n);
		if (err) {
			if (verbose)
				fprintf(stderr, PROG ": Failed to send echo: %s\n", strerror(-err));
			return;
		}
	}
	if (n < 0 && verbose)
		fprintf(stderr, PROG ": Failed to receive: %s\n", strerror((int)-n));
}

static void serve_sink(int fd, char *buf)
{
	uint64_t total = 0, be;
	ssize_t n;
	int err;

	while ((n = recv_some(fd, buf, BUF_SIZE, false, NULL)) > 0)
		total += (uint64_t)n;
	if (n < 0) {
		/* No count on error: the client must not mistake a partial count for success. */
		fprintf(stderr, PROG ": Failed to receive: %s\n", strerror((int)-n));
		return;
	}
	be = htobe64(total);
	err = send_all(fd, (const char *)&be, sizeof(be));
	if (err)
		fprintf(stderr, PROG ": Failed to send byte count: %s\n", strerror(-err));
}

static void serve_crr(int fd, char *buf)
{
	struct timeval tv = { .tv_sec = CRR_TIMEOUT_SEC };
	ssize_t n;
	int err;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv_some(fd, buf, BUF_SIZE, true, NULL);
	if (n <= 0)
		return;
	err = send_all(fd, buf, (size_t)n);
	if (err)
		return;
	/* Wait for the client's close, so the client (not us) ends up in TIME_WAIT. */
	while ((n = recv_some(fd, buf, BUF_SIZE, true, NULL)) > 0)
		;
}

static void serve(int fd, char *buf)
{
	switch (mode) {
	case MODE_ECHO:
		serve_echo(fd, buf);
		break;
	case MODE_SINK:
		serve_sink(fd, buf);
		break;
	case MODE_CRR:
		serve_crr(fd, buf);
		break;
	}
}

static void *conn_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *buf = malloc(BUF_SIZE);

	if (!buf)
		fprintf(stderr, PROG ": Failed to allocate buffer: %s\n", strerror(ENOMEM));
	else
		serve(fd, buf);
	free(buf);
	close(fd);
	return NULL;
}

static int start_conn_thread(int fd)
{
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&tid, &attr, conn_thread, (void *)(intptr_t)fd);
	pthread_attr_destroy(&attr);
	return -err;
}

/* Write the port to path via a temporary file and rename(), so a reader never sees it half. */
static int write_ready_file(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", port);
	if (fclose(f)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	if (rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

static int open_listener(int family, const char *addr, const char *port, int *bound_port)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1;

	if (resolve(family, addr, port, AI_NUMERICHOST | AI_PASSIVE, &ss, &sslen))
		return -1;
	/* Non-blocking listener: poll() says when to accept, and a vanished SYN cannot block. */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
	if (fd < 0) {
		fprintf(stderr, PROG ": Failed to create socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen)) {
		fprintf(stderr, PROG ": Failed to bind %s port %s: %s\n", addr, port,
			strerror(errno));
		goto err_close;
	}
	/* A crr benchmark opens thousands of connections a second: a deep backlog. */
	if (listen(fd, 4096)) {
		fprintf(stderr, PROG ": Failed to listen: %s\n", strerror(errno));
		goto err_close;
	}
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen)) {
		fprintf(stderr, PROG ": Failed to get bound address: %s\n", strerror(errno));
		goto err_close;
	}
	*bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						     : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;

err_close:
	close(fd);
	return -1;
}

static const struct option long_opts[] = {
	{ "bind", required_argument, NULL, 'b' },
	{ "port", required_argument, NULL, 'p' },
	{ "mode", required_argument, NULL, 'm' },
	{ "ready-file", required_argument, NULL, 'r' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

int main(int argc, char **argv)
{
	const char *addr = NULL, *port = NULL, *ready_file = NULL;
	int family = AF_INET, bound_port, lfd, sfd, opt, err;
	char *crr_buf = NULL;
	sigset_t sigs;
	uint64_t v;

	while ((opt = getopt_long(argc, argv, "46b:p:m:vh", long_opts, NULL)) != -1) {
		switch (opt) {
		case '4':
			family = AF_INET;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'b':
			addr = optarg;
			break;
		case 'p':
			if (parse_uint(optarg, 65535, &v)) {
				fprintf(stderr, PROG ": Invalid port '%s'\n", optarg);
				return 2;
			}
			port = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "echo")) {
				mode = MODE_ECHO;
			} else if (!strcmp(optarg, "sink")) {
				mode = MODE_SINK;
			} else if (!strcmp(optarg, "crr")) {
				mode = MODE_CRR;
			} else {
				fprintf(stderr, PROG ": Invalid mode '%s' (echo, sink, crr)\n",
					optarg);
				return 2;
			}
			break;
		case 'r':
			ready_file = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !port) {
		fprintf(stderr, PROG ": %s\n",
			!port ? "-p PORT is required" : "Unexpected argument");
		usage(stderr);
		return 2;
	}
	if (!addr)
		addr = family == AF_INET6 ? "::1" : "127.0.0.1";

	/*
	 * Block the stop signals in every thread (threads inherit the mask) and take them
	 * through a signalfd polled next to the listener: no handler races, no EINTR games.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, PROG ": Failed to create signalfd: %s\n", strerror(errno));
		return 1;
	}

	lfd = open_listener(family, addr, port, &bound_port);
	if (lfd < 0)
		return 1;
	if (mode == MODE_CRR) {
		crr_buf = malloc(BUF_SIZE);
		if (!crr_buf) {
			fprintf(stderr, PROG ": Failed to allocate buffer: %s\n", strerror(ENOMEM));
			return 1;
		}
	}

	printf("port=%d\n", bound_port);
	fflush(stdout);
	if (ready_file) {
		err = write_ready_file(ready_file, bound_port);
		if (err) {
			fprintf(stderr, PROG ": Failed to write ready file %s: %s\n", ready_file,
				strerror(-err));
			return 1;
		}
	}

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = lfd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int cfd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, PROG ": Failed to poll: %s\n", strerror(errno));
			return 1;
		}
		if (p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		/* No SOCK_NONBLOCK: the connection socket is blocking, unlike the listener. */
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, PROG ": Failed to accept connection: %s\n",
				strerror(errno));
			/* EMFILE and friends: back off rather than spin. */
			usleep(10000);
			continue;
		}
		if (verbose)
			fprintf(stderr, PROG ": Accepted connection (fd %d)\n", cfd);
		if (mode != MODE_SINK) {
			int one = 1;

			/* Replies are latency-bound: no Nagle delay on them. */
			setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		if (mode == MODE_CRR) {
			serve(cfd, crr_buf);
			close(cfd);
			continue;
		}
		err = start_conn_thread(cfd);
		if (err) {
			fprintf(stderr, PROG ": Failed to start connection thread: %s\n",
				strerror(-err));
			close(cfd);
		}
	}

	if (ready_file)
		unlink(ready_file);
	close(lfd);
	free(crr_buf);
	return 0;
}
