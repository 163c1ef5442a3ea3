/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The helper's leveled logging to stderr, in the form journald or a terminal expects. */
#ifndef HELPERD_LOG_H
#define HELPERD_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* Values are syslog priorities, which journald reads from a "<N>" line prefix. */
enum helperd_log_level {
	HELPERD_LOG_ERR = 3,
	HELPERD_LOG_WARN = 4,
	HELPERD_LOG_INFO = 6,
	HELPERD_LOG_DEBUG = 7,
};

/*
 * The one piece of process-wide state in the helper: libbpf's print callback carries no
 * context pointer, so the level and format live here, set once by main() before anything
 * logs. Messages above max_level are dropped; journal selects "<N>" prefixes instead of
 * level words.
 */
void helperd_log_setup(enum helperd_log_level max_level, bool journal);

/* True if stderr is the stream $JOURNAL_STREAM ("dev:ino") names, as sd_journal docs advise. */
bool helperd_log_stderr_is_journal(const char *journal_stream_env);

bool helperd_log_enabled(enum helperd_log_level level);

__attribute__((format(printf, 2, 3))) void helperd_log(enum helperd_log_level level,
						       const char *fmt, ...);

/* helperd_log() with a va_list (libbpf's print callback is helperd_libbpf_print()). */
void helperd_log_va(enum helperd_log_level level, const char *fmt, va_list ap);

#define log_err(...) helperd_log(HELPERD_LOG_ERR, __VA_ARGS__)
#define log_warn(...) helperd_log(HELPERD_LOG_WARN, __VA_ARGS__)
#define log_info(...) helperd_log(HELPERD_LOG_INFO, __VA_ARGS__)
#define log_debug(...) helperd_log(HELPERD_LOG_DEBUG, __VA_ARGS__)

#endif /* HELPERD_LOG_H */
