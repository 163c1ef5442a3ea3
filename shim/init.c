// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The shim's process-wide state and its one-time set-up. OpenOnload's staged init: until
 * shim_active() has returned true once, every hook is a plain call to libc.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/number.h"
#include "shim/adopt.h"
#include "shim/fdtab.h"
#include "shim/init.h"
#include "shim/pairwait.h"
#include "shim/promote.h"
#include "shim/real.h"
#include "shim/sigwrap.h"

struct shim_config shim_cfg;
struct shim_client shim_helper;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool init_done; /* set last by init, read without the once by the hot paths */

bool shim_env_flag(const char *value)
{
	static const char *const off[] = { "", "0", "no", "false", "off" };
	size_t i;

	if (!value)
		return false;
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		if (strcasecmp(value, off[i]) == 0)
			return false;
	return true;
}

int shim_env_timeout_ms(const char *value)
{
	unsigned int ms;

	if (skaccel_parse_uint(value, 1, 60000, &ms))
		return SHIM_CLIENT_TIMEOUT_MS;
	return (int)ms;
}

unsigned int shim_env_promote_after(const char *value)
{
	unsigned int n;

	if (skaccel_parse_uint(value, 0, 255, &n))
		return SHIM_PROMOTE_AFTER;
	return n;
}

static void fork_prepare(void)
{
	/* The child holds every socket open now: a close() in either is no longer the last. */
	shim_fd_add_all(SHIM_FD_REGISTERED | SHIM_FD_CANDIDATE, SHIM_FD_SHARED);
	shim_client_atfork_prepare(&shim_helper);
}

static void fork_parent(void)
{
	shim_client_atfork_parent(&shim_helper);
}

static void fork_child(void)
{
	shim_cfg.pid = getpid();
	shim_client_atfork_child(&shim_helper);
	shim_sig_atfork_child();
}

/* The helper's own user, besides root: SKACCEL_HELPER_UID, else skaccel's in /etc/passwd. */
static void trust_helper_user(void)
{
	const char *env = secure_getenv("SKACCEL_HELPER_UID");
	uid_t uid;

	if (env && *env) {
		if (shim_parse_uid(env, &uid) == 0)
			shim_client_trust_uid(&shim_helper, uid);
		else
			shim_log("ignoring SKACCEL_HELPER_UID=%s: not a uid", env);
		return;
	}
	if (shim_passwd_uid("/etc/passwd", SHIM_HELPER_USER, &uid) == 0)
		shim_client_trust_uid(&shim_helper, uid);
}

static void init(void)
{
	const char *path;
	int saved_errno = errno;

	shim_real_init();
	shim_cfg.disabled = shim_env_flag(secure_getenv("SKACCEL_DISABLE"));
	shim_cfg.debug = shim_env_flag(secure_getenv("SKACCEL_DEBUG"));
	shim_cfg.cross_netns = shim_env_flag(secure_getenv("SKACCEL_CROSS_NETNS"));
	shim_cfg.timeout_ms = shim_env_timeout_ms(secure_getenv("SKACCEL_TIMEOUT_MS"));
	shim_cfg.promote_after = shim_env_promote_after(secure_getenv("SKACCEL_PROMOTE_AFTER"));
	shim_cfg.pid = getpid();
	path = secure_getenv(SKACCEL_SOCKET_ENV);
	if (!path || !*path)
		path = SKACCEL_DEFAULT_SOCKET;

	/* Without the fd table a registered socket's reads could not be fixed: stay out. */
	if (!shim_cfg.disabled &&
	    (!real.connect || !real.getsockopt || !real.fcntl || shim_fdtab_init() < 0 ||
	     shim_promote_init() < 0 || shim_pairwait_init() < 0)) {
		shim_cfg.disabled = true;
		shim_log("disabled: cannot set up (%s)", strerrordesc_np(errno) ?: "?");
	}
	if (!shim_cfg.disabled) {
		shim_client_init(&shim_helper, path, shim_cfg.timeout_ms, SHIM_CLIENT_BACKOFF_MS);
		trust_helper_user();
		pthread_atfork(fork_prepare, fork_parent, fork_child);
	}
	__atomic_store_n(&init_done, true, __ATOMIC_RELEASE);
	/* After init_done: the scan's own calls must not come back here. */
	if (!shim_cfg.disabled)
		shim_adopt_inherited();
	errno = saved_errno;
}

bool shim_active(void)
{
	if (__builtin_expect(!__atomic_load_n(&init_done, __ATOMIC_ACQUIRE), 0))
		pthread_once(&init_once, init);
	return !shim_cfg.disabled;
}

bool shim_in_vfork_child(void)
{
	return getpid() != shim_cfg.pid;
}

void shim_log(const char *fmt, ...)
{
	int saved_errno = errno;
	char buf[512];
	va_list ap;
	int n, m;

	if (!shim_cfg.debug)
		return;
	/* write(2), not stdio: no locks, no buffers shared with the application's stderr. */
	n = snprintf(buf, sizeof(buf), "skaccel[%d]: ", (int)getpid());
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)n) < 0) {
		/* nowhere to report it */
	}
	errno = saved_errno;
}
