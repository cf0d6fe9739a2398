/* The configuration: `key value` lines (the re_conf format of the baresip
 * family), '#' starts a comment. Every key, with its default, is documented
 * in conf/edgelab.conf and described by the table in conf.c.
 *
 * A loaded conf is immutable and reference-counted: SIGHUP parses a new one
 * and swaps it in only when it is whole and valid, while workers still
 * holding the old one drop their reference when they switch. */
#ifndef EDGELAB_CORE_CONF_H
#define EDGELAB_CORE_CONF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "core/log.h"

#define CONF_ERR_MAX      256
#define CONF_SOFTWARE_MAX 32 /* bounded: SOFTWARE goes into unauthenticated replies */

struct conf {
	atomic_int refs;
	char source[256]; /* the file it came from, or "(defaults)" */

	enum log_level log_level;
	bool log_json;
	unsigned workers; /* 0: one per online CPU */

	bool stun_udp_enabled;
	struct sockaddr_storage stun_udp_listen;
	bool stun_tcp_enabled;
	struct sockaddr_storage stun_tcp_listen;
	unsigned stun_tcp_max_connections;
	unsigned stun_tcp_idle_timeout; /* seconds */
	char software[CONF_SOFTWARE_MAX + 1];

	char control_socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* A conf with every default. 0 or ENOMEM. */
int conf_defaults(struct conf **confp);
/* Parses a whole file / buffer. On error returns EINVAL (or the errno of the
 * read) and writes "FILE:LINE: what is wrong" into err. */
int conf_load_file(const char *path, struct conf **confp, char *err, size_t err_len);
int conf_load_buf(const char *buf, size_t len, const char *name, struct conf **confp, char *err,
                  size_t err_len);
/* Sets one key from a command-line flag; 0, or EINVAL with err filled. */
int conf_set(struct conf *conf, const char *key, const char *value, char *err, size_t err_len);

struct conf *conf_ref(struct conf *conf);
void conf_unref(struct conf *conf);

/* The keys, for documentation, flags and tests. */
struct conf_key_info {
	const char *name;
	const char *default_value;
	const char *help;
};
size_t conf_key_count(void);
const struct conf_key_info *conf_key_at(size_t i);

/* Writes the effective configuration as `key value` lines. */
void conf_dump(const struct conf *conf, FILE *out);

#endif
