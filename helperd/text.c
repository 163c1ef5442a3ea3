// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Text out: strings a client chose (an executable's path) are escaped before they reach a
 * log line, so that they cannot forge one, and quoted for JSON. Numbers in are
 * common/number.c's.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "helperd/text.h"

void helperd_escape(char *buf, size_t len, const char *s)
{
	size_t used = 0, cut = 0, need;
	char one[5];

	if (!len)
		return;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || c == '\\')
			snprintf(one, sizeof(one), "\\x%02x", c);
		else
			one[0] = (char)c, one[1] = '\0';
		need = strlen(one);
		if (used + need >= len) {
			/* Out of room: "..." where it last fitted, at a character boundary. */
			if (cut + 4 <= len)
				strcpy(buf + cut, "...");
			else
				buf[cut] = '\0';
			return;
		}
		memcpy(buf + used, one, need);
		used += need;
		if (used + 4 <= len)
			cut = used;
	}
	buf[used] = '\0';
}

void helperd_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}
