#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = LOG_LVL_INFO;
static _Atomic bool json_lines;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
	atomic_store(&current_level, level);
}
enum log_level log_get_level(void)
{
	return atomic_load(&current_level);
}
void log_set_json(bool json)
{
	atomic_store(&json_lines, json);
}

int log_level_parse(const char *name, enum log_level *level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return EINVAL;
}

const char *log_level_name(enum log_level level)
{
	return level <= LOG_LVL_DEBUG ? level_names[level] : "?";
}

/* Appends s to out as a JSON string body; returns the new length. */
static size_t json_escape(char *out, size_t len, size_t cap, const char *s)
{
	for (; *s && len + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[len++] = '\\';
			out[len++] = (char)c;
		} else if (c < 0x20) {
			len += (size_t)snprintf(out + len, cap - len, "\\u%04x", c);
		} else {
			out[len++] = (char)c;
		}
	}
	return len;
}

/* Appends s to out with control characters (a newline, an escape) as \xNN:
 * messages carry what clients sent (a TURN USERNAME, a SIP URI), which must
 * not forge or hide lines. Returns the new length. */
static size_t text_escape(char *out, size_t len, size_t cap, const char *s)
{
	for (; *s && len + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			len += (size_t)snprintf(out + len, cap - len, "\\x%02x", c);
		else
			out[len++] = (char)c;
	}
	return len;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if ((int)level > atomic_load(&current_level))
		return;

	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char stamp[32];
	size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof(stamp) - n, ".%03ldZ", ts.tv_nsec / 1000000);

	char line[2200];
	size_t len;
	if (atomic_load(&json_lines)) {
		len = (size_t)snprintf(line, sizeof(line),
		                       "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", stamp,
		                       log_level_name(level));
		len = json_escape(line, len, sizeof(line) - 3, msg);
		line[len++] = '"';
		line[len++] = '}';
	} else {
		int w = snprintf(line, sizeof(line) - 1, "%s %-5s ", stamp, log_level_name(level));
		len = text_escape(line, w < 0 ? 0 : (size_t)w, sizeof(line) - 1, msg);
	}
	line[len++] = '\n';
	/* One write per line so that lines from worker threads never interleave. */
	ssize_t rc = write(STDERR_FILENO, line, len);
	(void)rc;
}
