#include "core/conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/file.h"

/* The loader is our own rather than libre's re_conf: re_conf reports neither
 * line numbers nor unknown keys, and both are required (a bad key must be an
 * error naming its line). The file format is the same. */

#include "core/conf_priv.h"

size_t conf_key_count(void)
{
	return conf_keys_count;
}
const struct conf_key_info *conf_key_at(size_t i)
{
	return i < conf_keys_count ? &conf_keys[i].info : NULL;
}

static const struct conf_key *key_find(const char *name)
{
	for (size_t i = 0; i < conf_keys_count; i++)
		if (strcmp(conf_keys[i].info.name, name) == 0)
			return &conf_keys[i];
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
	if (k->parse(k, conf, value)) {
		set_err(err, err_len, "%s: bad value '%s' (expected %s)", key, value, k->expect);
		return EINVAL;
	}
	return 0;
}

int conf_pki_dir(const struct conf *conf, char *dir, size_t len)
{
	const char *slash = strrchr(conf->tls_certificate, '/');
	size_t n = slash ? (size_t)(slash - conf->tls_certificate) : 0;
	char key[CONF_PATH_MAX + 16], ca[CONF_PATH_MAX + 16];
	if (!slash || strcmp(slash, "/edge.pem") != 0 || n == 0 || n >= len)
		return EINVAL;
	snprintf(dir, len, "%.*s", (int)n, conf->tls_certificate);
	snprintf(key, sizeof(key), "%s/edge.key", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	return strcmp(key, conf->tls_key) == 0 && strcmp(ca, conf->tls_ca) == 0 ? 0 : EINVAL;
}

const char *conf_federation_ca(const struct conf *conf)
{
	return conf->tls_federation_ca[0] ? conf->tls_federation_ca : conf->tls_ca;
}

int conf_check(const struct conf *conf, char *err, size_t err_len)
{
	char dir[CONF_PATH_MAX];
	if (conf->tls_generate && conf_pki_dir(conf, dir, sizeof(dir))) {
		set_err(
		    err, err_len,
		    "tls_generate needs tls_certificate, tls_key and tls_ca named as edgelab pki "
		    "writes them, in one directory (DIR/edge.pem, DIR/edge.key, DIR/ca.pem; auto "
		    "is /etc/edgelab/pki)");
		return EINVAL;
	}
	/* HTTPS to the control API without a way to authenticate would let
	 * nobody in, or (worse, were it ever loosened) everybody. */
	if (conf->control_listen_enabled && conf->n_control_clients == 0 &&
	    !conf->control_token_file[0]) {
		set_err(err, err_len,
		        "control_listen needs credentials: control_client NAME (certificates "
		        "chaining to tls_ca) or control_token_file PATH");
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
	for (size_t i = 0; i < conf_keys_count; i++) {
		/* A default that does not parse is a bug caught by the unit tests. */
		const struct conf_key *k = &conf_keys[i];
		if (k->info.default_value[0] && k->parse(k, conf, k->info.default_value)) {
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
	if (k && !k->count && seen_on[k - conf_keys]) {
		set_err(err, err_len, "%s:%u: duplicate key '%s' (first set on line %u)", name,
		        lineno, key, seen_on[k - conf_keys]);
		return EINVAL;
	}
	if (conf_set(conf, key, value, why, sizeof(why))) {
		set_err(err, err_len, "%s:%u: %s", name, lineno, why);
		return EINVAL;
	}
	seen_on[k - conf_keys] = lineno;
	return 0;
}

int conf_load_buf(const char *buf, size_t len, const char *name, struct conf **confp, char *err,
                  size_t err_len)
{
	struct conf *conf;
	unsigned seen_on[CONF_KEYS_MAX] = {0};
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
	char *buf;
	size_t len;
	int rc = file_read_all(path, CONF_FILE_MAX, &buf, &len);
	if (rc == EFBIG)
		set_err(err, err_len, "%s: larger than %zu bytes", path, CONF_FILE_MAX);
	else if (rc == EIO)
		set_err(err, err_len, "%s: read error", path);
	else if (rc == ENOMEM)
		set_err(err, err_len, "%s: out of memory", path);
	else if (rc)
		set_err(err, err_len, "%s: %s", path, strerror(rc));
	if (rc)
		return rc;
	rc = conf_load_buf(buf, len, path, confp, err, err_len);
	free(buf);
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
	/* The longest value: federation_partner DOMAIN [HOST]:PORT, two DNS
	 * names; a shorter buffer cut it, and the dump did not load again. */
	char value[2 * CONF_NAME_MAX + 16];
	fprintf(out, "# effective configuration, from %s\n", conf->source);
	for (size_t i = 0; i < conf_keys_count; i++) {
		const struct conf_key *k = &conf_keys[i];
		size_t n = k->count ? k->count(conf) : 1;
		for (size_t j = 0; j < n; j++) {
			k->format(k, conf, j, value, sizeof(value));
			fprintf(out, "%-30s %s\n", k->info.name, value);
		}
	}
}
