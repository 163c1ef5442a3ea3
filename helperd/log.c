// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Leveled logging to stderr: "<N>" syslog prefixes under journald, a level word otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helperd/log.h"

static struct {
	enum helperd_log_level max_level;
	bool journal;
} log_cfg = { .max_level = HELPERD_LOG_INFO };

void helperd_log_setup(enum helperd_log_level max_level, bool journal)
{
	log_cfg.max_level = max_level;
	log_cfg.journal = journal;
}

bool helperd_log_stderr_is_journal(const char *journal_stream_env)
{
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (!journal_stream_env ||
	    sscanf(journal_stream_env, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

bool helperd_log_enabled(enum helperd_log_level level)
{
	return level <= log_cfg.max_level;
}

static const char *level_word(enum helperd_log_level level)
{
	switch (level) {
	case HELPERD_LOG_ERR:
		return "error: ";
	case HELPERD_LOG_WARN:
		return "warning: ";
	case HELPERD_LOG_INFO:
		return "";
	case HELPERD_LOG_DEBUG:
		return "debug: ";
	}
	return "";
}

static void log_va(enum helperd_log_level level, const char *fmt, va_list ap)
{
	int saved_errno = errno; /* so callers may log "%m" and keep errno */
	char *text, *line, *next;

	if (!helperd_log_enabled(level))
		return;
	if (vasprintf(&text, fmt, ap) < 0) {
		errno = saved_errno;
		return;
	}
	/* libbpf hands over whole verifier logs: one prefix per line keeps every line leveled. */
	for (line = text; *line; line = next) {
		next = strchrnul(line, '\n');
		if (log_cfg.journal)
			fprintf(stderr, "<%d>%.*s\n", (int)level, (int)(next - line), line);
		else
			fprintf(stderr, "skaccel-helperd: %s%.*s\n", level_word(level),
				(int)(next - line), line);
		if (*next)
			next++;
	}
	free(text);
	errno = saved_errno;
}

void helperd_log(enum helperd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(level, fmt, ap);
	va_end(ap);
}

void helperd_log_va(enum helperd_log_level level, const char *fmt, va_list ap)
{
	log_va(level, fmt, ap);
}
