/* The key table behind core/conf.h, shared by the loader (conf.c) and the
 * keys themselves (conf_keys.c). Nobody else includes this. */
#ifndef EDGELAB_CORE_CONF_PRIV_H
#define EDGELAB_CORE_CONF_PRIV_H

#include "core/conf.h"

struct conf_key;
typedef int(conf_parse_h)(const struct conf_key *k, struct conf *conf, const char *value);
/* Item i of the key's values as text; a single-valued key has one item. */
typedef void(conf_format_h)(const struct conf_key *k, const struct conf *conf, size_t i, char *out,
                            size_t cap);
typedef size_t(conf_count_h)(const struct conf *conf);

struct conf_key {
	struct conf_key_info info;
	const char *expect;  /* what a valid value looks like, for errors */
	conf_parse_h *parse; /* a repeatable key's parse appends */
	conf_format_h *format;
	conf_count_h *count; /* NULL: single-valued; else repeatable, values 0..count-1 */
	/* For the generic parsers: where the value lives, and its bounds. */
	size_t offset;
	unsigned min, max;
};

extern const struct conf_key conf_keys[];
extern const size_t conf_keys_count;

#endif
