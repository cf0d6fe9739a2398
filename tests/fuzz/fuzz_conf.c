/* libFuzzer target for the config parser: the input is a whole config file.
 * A load either fails with an error string that names the file, or gives a
 * conf that dumps, reloads from its own dump to the same values (conf_dump
 * writes the file format) and frees cleanly. Invariants are checked with
 * abort(); ASan/UBSan catch overreads and leaks. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_NAME      "fuzz.conf"
#define FUZZ_DUMP_HEAD "# effective configuration, from " FUZZ_NAME "\n"

/* The dump of conf as a NUL-terminated string in a buffer that grows with
 * it: a config of many list lines (peer_deny, turn_user, ...) dumps far more
 * than its keys' defaults. Its first line names the source. Free it. */
static char *fuzz_dump(const struct conf *conf, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	FUZZ_CHECK(f != NULL);
	conf_dump(conf, f);
	FUZZ_CHECK(fclose(f) == 0);
	FUZZ_CHECK(buf != NULL && len > 0 && strlen(buf) == len);
	FUZZ_CHECK(strncmp(buf, FUZZ_DUMP_HEAD, sizeof(FUZZ_DUMP_HEAD) - 1) == 0);
	*lenp = len;
	return buf;
}

/* What a loaded conf must allow: dumps (to /dev/null and to memory),
 * references, and reloading its own dump to the same effective values. */
static void fuzz_loaded(struct conf *conf)
{
	char err[CONF_ERR_MAX];
	struct conf *back = NULL;
	char *dump, *again;
	size_t len, again_len;
	FILE *null;

	FUZZ_CHECK(strcmp(conf->source, FUZZ_NAME) == 0);
	null = fopen("/dev/null", "w");
	FUZZ_CHECK(null != NULL);
	conf_dump(conf, null);
	FUZZ_CHECK(fclose(null) == 0);

	FUZZ_CHECK(conf_ref(conf) == conf);
	conf_unref(conf);

	dump = fuzz_dump(conf, &len);
	err[0] = '\0';
	if (conf_load_buf(dump, len, FUZZ_NAME, &back, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_conf: own dump does not reload: %s\n%s", err, dump);
		abort();
	}
	FUZZ_CHECK(back != NULL);
	again = fuzz_dump(back, &again_len);
	FUZZ_CHECK(again_len == len && strcmp(dump, again) == 0);
	free(again);
	free(dump);
	conf_unref(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONF_ERR_MAX];
	struct conf *conf = NULL;
	int rc;

	/* a poisoned buffer: the error must be terminated by conf_load_buf */
	memset(err, 0x5A, sizeof(err));
	rc = conf_load_buf((const char *)data, size, FUZZ_NAME, &conf, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(conf != NULL);
		fuzz_loaded(conf);
		conf_unref(conf);
		return 0;
	}
	/* the conf is published only when whole */
	FUZZ_CHECK(conf == NULL);
	FUZZ_CHECK(rc == EINVAL || rc == ENOMEM);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	FUZZ_CHECK(strncmp(err, FUZZ_NAME, strlen(FUZZ_NAME)) == 0);
	return 0;
}
