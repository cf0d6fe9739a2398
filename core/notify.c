#include "core/notify.h"

#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#define NOTIFY_MAX 512

static const char *const state_lines[] = {
    [NOTIFY_READY] = "READY=1\n",
    [NOTIFY_RELOADING] = "RELOADING=1\n",
    [NOTIFY_STOPPING] = "STOPPING=1\n",
    [NOTIFY_STATUS] = "",
};

int notify_send(enum notify_state state, const char *status)
{
	char msg[NOTIFY_MAX];
	size_t n = (size_t)snprintf(msg, sizeof(msg), "%s", state_lines[state]);
	/* systemd 253's Type=notify-reload wants the reload's start time with
	 * RELOADING=1; older ones ignore the line. */
	if (state == NOTIFY_RELOADING) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "MONOTONIC_USEC=%llu\n",
		                      (unsigned long long)ts.tv_sec * 1000000ULL +
		                          (unsigned long long)ts.tv_nsec / 1000ULL);
	}
	if (status && n < sizeof(msg)) {
		char *line = msg + n;
		snprintf(line, sizeof(msg) - n, "STATUS=%s", status);
		for (char *p = line; *p; p++)
			if (*p == '\n')
				*p = ' ';
	}
	int rc = sd_notify(0, msg);
	return rc < 0 ? -rc : 0;
}
