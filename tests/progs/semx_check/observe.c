// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* What the application saw, printed as "obs:" lines for observed.sh to compare. */
#include "tests/progs/semx_check/semx_check.h"

void obs(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g_report_lock);
	printf("%s: obs: %s iter=%d: ", g_prog, g_scenario, atomic_load(&g_iter));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	pthread_mutex_unlock(&g_report_lock);
}

/* A call's outcome as a program sees it: "12" or "-1/EAGAIN". */
const char *res_str(char *buf, size_t len, ssize_t n, int err)
{
	if (n >= 0)
		snprintf(buf, len, "%zd", n);
	else
		snprintf(buf, len, "-1/%s", strerrorname_np(err) ?: "?");
	return buf;
}

/* poll() revents as names, in a fixed order. */
const char *revents_str(char *buf, size_t len, short ev)
{
	static const struct {
		short bit;
		const char *name;
	} names[] = { { POLLIN, "IN" },	     { POLLPRI, "PRI" }, { POLLOUT, "OUT" },
		      { POLLERR, "ERR" },    { POLLHUP, "HUP" }, { POLLNVAL, "NVAL" },
		      { POLLRDHUP, "RDHUP" } };
	size_t i, off = 0;

	buf[0] = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ev & names[i].bit)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "|" : "",
						names[i].name);
	if (!off)
		snprintf(buf, len, "0");
	return buf;
}
