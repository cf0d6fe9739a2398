#include "core/conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"

/* The loader is our own rather than libre's re_conf: re_conf reports neither
 * line numbers nor unknown keys, and both are required (a bad key must be an
 * error naming its line). The file format is the same. */

typedef int(conf_parse_h)(struct conf *conf, const char *value);
typedef void(conf_format_h)(const struct conf *conf, char *out, size_t cap);

struct conf_key {
	struct conf_key_info info;
	const char *expect; /* what a valid value looks like, for errors */
	conf_parse_h *parse;
	conf_format_h *format;
};

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "on", "true", "1"};
	static const char *const no[] = {"no", "off", "false", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return EINVAL;
}

static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	if (!isdigit((unsigned char)*v))
		return EINVAL;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return EINVAL;
	*out = (unsigned)n;
	return 0;
}

/* "off" disables a listener; otherwise ADDR[:PORT] with default_port. */
static int parse_listen(const char *v, uint16_t default_port, bool *enabled,
                        struct sockaddr_storage *sa)
{
	if (strcmp(v, "off") == 0) {
		*enabled = false;
		return 0;
	}
	if (addr_parse(v, default_port, sa))
		return EINVAL;
	*enabled = true;
	return 0;
}

static void format_listen(bool enabled, const struct sockaddr_storage *sa, char *out, size_t cap)
{
	if (!enabled)
		snprintf(out, cap, "off");
	else
		addr_str((const struct sockaddr *)sa, out, cap);
}

static int p_log_level(struct conf *c, const char *v)
{
	return log_level_parse(v, &c->log_level);
}
static void f_log_level(const struct conf *c, char *o, size_t n)
{
	snprintf(o, n, "%s", log_level_name(c->log_level));
}
static int p_log_json(struct conf *c, const char *v)
{
	return parse_bool(v, &c->log_json);
}
static void f_log_json(const struct conf *c, char *o, size_t n)
{
	snprintf(o, n, "%s", c->log_json ? "yes" : "no");
}
static int p_workers(struct conf *c, const char *v)
{
	return parse_uint(v, 0, 64, &c->workers);
}
static void f_workers(const struct conf *c, char *o, size_t n)
{
	snprintf(o, n, "%u", c->workers);
}
static int p_stun_udp(struct conf *c, const char *v)
{
	return parse_listen(v, 3478, &c->stun_udp_enabled, &c->stun_udp_listen);
}
static void f_stun_udp(const struct conf *c, char *o, size_t n)
{
	format_listen(c->stun_udp_enabled, &c->stun_udp_listen, o, n);
}
static int p_stun_tcp(struct conf *c, const char *v)
{
	return parse_listen(v, 3478, &c->stun_tcp_enabled, &c->stun_tcp_listen);
}
static void f_stun_tcp(const struct conf *c, char *o, size_t n)
{
	format_listen(c->stun_tcp_enabled, &c->stun_tcp_listen, o, n);
}
static int p_tcp_max(struct conf *c, const char *v)
{
	return parse_uint(v, 1, 1000000, &c->stun_tcp_max_connections);
}
static void f_tcp_max(const struct conf *c, char *o, size_t n)
{
	snprintf(o, n, "%u", c->stun_tcp_max_connections);
}
static int p_tcp_idle(struct conf *c, const char *v)
{
	return parse_uint(v, 1, 86400, &c->stun_tcp_idle_timeout);
}
static void f_tcp_idle(const struct conf *c, char *o, size_t n)
{
	snprintf(o, n, "%u", c->stun_tcp_idle_timeout);
}

static int p_software(struct conf *c, const char *v)
{
	if (strcmp(v, "off") == 0) {
		c->software[0] = '\0';
		return 0;
	}
	if (strlen(v) > CONF_SOFTWARE_MAX)
		return EINVAL;
	snprintf(c->software, sizeof(c->software), "%s", v);
	return 0;
}
static void f_software(const struct conf *c, char *o, size_t n)
{
	snprintf(o, n, "%s", c->software[0] ? c->software : "off");
}

/* "auto": /run/edgelab/control.sock for root, else a per-user path, so that
 * an unprivileged `edgelab serve` starts with no config at all. */
static int p_control_socket(struct conf *c, const char *v)
{
	char path[PATH_MAX];
	if (strcmp(v, "off") == 0) {
		c->control_socket[0] = '\0';
		return 0;
	}
	if (strcmp(v, "auto") == 0) {
		if (geteuid() == 0)
			snprintf(path, sizeof(path), "/run/edgelab/control.sock");
		else
			snprintf(path, sizeof(path), "/tmp/edgelab-%u/control.sock",
			         (unsigned)geteuid());
		v = path;
	}
	if (v[0] != '/' || strlen(v) >= sizeof(c->control_socket))
		return EINVAL;
	snprintf(c->control_socket, sizeof(c->control_socket), "%s", v);
	return 0;
}
static void f_control_socket(const struct conf *c, char *o, size_t n)
{
	snprintf(o, n, "%s", c->control_socket[0] ? c->control_socket : "off");
}

static const struct conf_key keys[] = {
    {{"log_level", "info", "error, warn, info or debug"},
     "error|warn|info|debug",
     p_log_level,
     f_log_level},
    {{"log_json", "no", "log JSON lines instead of plain text"}, "yes|no", p_log_json, f_log_json},
    {{"workers", "0", "worker threads, each with its own event loop; 0 = one per CPU"},
     "a number 0..64",
     p_workers,
     f_workers},
    {{"stun_udp_listen", "0.0.0.0:3478", "STUN on UDP (row 6): ADDR[:PORT] or off"},
     "ADDR[:PORT] or off",
     p_stun_udp,
     f_stun_udp},
    {{"stun_tcp_listen", "0.0.0.0:3478", "STUN on TCP: ADDR[:PORT] or off"},
     "ADDR[:PORT] or off",
     p_stun_tcp,
     f_stun_tcp},
    {{"stun_tcp_max_connections", "1024", "open STUN/TCP connections at most, in total"},
     "a number 1..1000000",
     p_tcp_max,
     f_tcp_max},
    {{"stun_tcp_idle_timeout", "30", "seconds before an idle STUN/TCP connection is closed"},
     "seconds 1..86400",
     p_tcp_idle,
     f_tcp_idle},
    {{"software", "edgelab", "SOFTWARE attribute in STUN replies, or off"},
     "at most 32 characters, or off",
     p_software,
     f_software},
    {{"control_socket", "auto", "control API (HTTP) unix socket path, auto, or off"},
     "an absolute path, auto or off",
     p_control_socket,
     f_control_socket},
};
#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

size_t conf_key_count(void)
{
	return KEY_COUNT;
}
const struct conf_key_info *conf_key_at(size_t i)
{
	return i < KEY_COUNT ? &keys[i].info : NULL;
}

static const struct conf_key *key_find(const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].info.name, name) == 0)
			return &keys[i];
	return NULL;
}

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && err_len)
		vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

int conf_set(struct conf *conf, const char *key, const char *value, char *err, size_t err_len)
{
	const struct conf_key *k = key_find(key);
	if (!k) {
		set_err(err, err_len, "unknown key '%s'", key);
		return EINVAL;
	}
	if (k->parse(conf, value)) {
		set_err(err, err_len, "%s: bad value '%s' (expected %s)", key, value, k->expect);
		return EINVAL;
	}
	return 0;
}

int conf_defaults(struct conf **confp)
{
	struct conf *conf = calloc(1, sizeof(*conf));
	if (!conf)
		return ENOMEM;
	atomic_init(&conf->refs, 1);
	snprintf(conf->source, sizeof(conf->source), "(defaults)");
	for (size_t i = 0; i < KEY_COUNT; i++) {
		/* A default that does not parse is a bug caught by the unit tests. */
		if (keys[i].parse(conf, keys[i].info.default_value)) {
			free(conf);
			return EINVAL;
		}
	}
	*confp = conf;
	return 0;
}

#define LINE_MAX_LEN 1024

/* One line: "" (blank or comment) or a key and the rest of the line as value. */
static int split_line(char *line, char **key, char **value)
{
	char *p = line;
	while (isspace((unsigned char)*p))
		p++;
	*key = p;
	if (*p == '\0' || *p == '#')
		return *key = NULL, 0;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	char *end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	*value = p;
	return **value ? 0 : EINVAL;
}

static int load_line(struct conf *conf, char *line, unsigned lineno, unsigned *seen_on,
                     const char *name, char *err, size_t err_len)
{
	char *key, *value, why[CONF_ERR_MAX];
	if (split_line(line, &key, &value)) {
		set_err(err, err_len, "%s:%u: %s: missing value", name, lineno, key);
		return EINVAL;
	}
	if (!key)
		return 0;
	const struct conf_key *k = key_find(key);
	if (k && seen_on[k - keys]) {
		set_err(err, err_len, "%s:%u: duplicate key '%s' (first set on line %u)", name,
		        lineno, key, seen_on[k - keys]);
		return EINVAL;
	}
	if (conf_set(conf, key, value, why, sizeof(why))) {
		set_err(err, err_len, "%s:%u: %s", name, lineno, why);
		return EINVAL;
	}
	seen_on[k - keys] = lineno;
	return 0;
}

int conf_load_buf(const char *buf, size_t len, const char *name, struct conf **confp, char *err,
                  size_t err_len)
{
	struct conf *conf;
	unsigned seen_on[KEY_COUNT] = {0};
	unsigned lineno = 0;
	int err_code = conf_defaults(&conf);
	if (err_code) {
		set_err(err, err_len, "%s: out of memory", name);
		return err_code;
	}
	snprintf(conf->source, sizeof(conf->source), "%s", name);

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t line_len = (nl ? (size_t)(nl - buf) : len) - pos;
		char line[LINE_MAX_LEN];
		lineno++;
		if (line_len >= sizeof(line) || memchr(buf + pos, '\0', line_len)) {
			set_err(err, err_len, "%s:%u: line too long or not text", name, lineno);
			err_code = EINVAL;
			goto out;
		}
		memcpy(line, buf + pos, line_len);
		line[line_len] = '\0';
		err_code = load_line(conf, line, lineno, seen_on, name, err, err_len);
		if (err_code)
			goto out;
		pos += line_len + 1;
	}
out:
	if (err_code) {
		conf_unref(conf);
		return err_code;
	}
	*confp = conf;
	return 0;
}

#define CONF_FILE_MAX ((size_t)1024 * 1024)

int conf_load_file(const char *path, struct conf **confp, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		set_err(err, err_len, "%s: %s", path, strerror(e));
		return e;
	}
	char *buf = malloc(CONF_FILE_MAX + 1);
	size_t len = buf ? fread(buf, 1, CONF_FILE_MAX + 1, f) : 0;
	int rc;
	if (!buf) {
		set_err(err, err_len, "%s: out of memory", path);
		rc = ENOMEM;
	} else if (ferror(f)) {
		set_err(err, err_len, "%s: read error", path);
		rc = EIO;
	} else if (len > CONF_FILE_MAX) {
		set_err(err, err_len, "%s: larger than %zu bytes", path, CONF_FILE_MAX);
		rc = EFBIG;
	} else {
		rc = conf_load_buf(buf, len, path, confp, err, err_len);
	}
	free(buf);
	fclose(f);
	return rc;
}

struct conf *conf_ref(struct conf *conf)
{
	if (conf)
		atomic_fetch_add(&conf->refs, 1);
	return conf;
}

void conf_unref(struct conf *conf)
{
	if (conf && atomic_fetch_sub(&conf->refs, 1) == 1)
		free(conf);
}

void conf_dump(const struct conf *conf, FILE *out)
{
	char value[256];
	fprintf(out, "# effective configuration, from %s\n", conf->source);
	for (size_t i = 0; i < KEY_COUNT; i++) {
		keys[i].format(conf, value, sizeof(value));
		fprintf(out, "%-26s %s\n", keys[i].info.name, value);
	}
}
