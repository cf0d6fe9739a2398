/* Logging: one line per event on stderr, plain or JSON lines.
 * Libraries and parsers never log; the code at a boundary (a request handler,
 * a session teardown, a CLI verb) logs once, with context. */
#ifndef EDGELAB_CORE_LOG_H
#define EDGELAB_CORE_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Thread-safe: the level and format are atomics, each line is one write(2). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_json(bool json);
/* Parses "error", "warn", "info" or "debug"; returns 0 or EINVAL. */
int log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
