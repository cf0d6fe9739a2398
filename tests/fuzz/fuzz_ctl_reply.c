/* fuzz_ctl_reply: the probe's parsers of the control API's answers
 * (probe/control_parse.c): the HTTP reply, complete or cut anywhere, then
 * its body as a flow's record and as canary hit lines. Invariants: a
 * parsed body lies inside the input and within CTL_BODY_MAX, the headers
 * within CTL_HEAD_MAX; a reply parsed at eof parses the same with more
 * bytes only when it has a Content-Length; every string is terminated
 * inside its field. */
#include <errno.h>
#include <string.h>

#include "probe/control_client.h"
#include "tests/fuzz/fuzz.h"

static void check_str(const char *s, size_t cap)
{
	FUZZ_CHECK(memchr(s, '\0', cap) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_reply r;
	struct ctl_flow f;
	struct ctl_hit h;
	int rc = ctl_reply_parse(data, size, true, &r);
	FUZZ_CHECK(rc == 0 || rc == EBADMSG || rc == EMSGSIZE);
	/* Not closed yet: never more than "complete", and never complete
	 * where the closed parse is not. */
	int open_rc = ctl_reply_parse(data, size, false, &r);
	FUZZ_CHECK(open_rc == 0 || open_rc == EAGAIN || open_rc == EBADMSG || open_rc == EMSGSIZE);
	FUZZ_CHECK(open_rc != 0 || rc == 0);
	if (rc == 0) {
		ctl_reply_parse(data, size, true, &r);
		FUZZ_CHECK(r.status >= 100 && r.status <= 599);
		FUZZ_CHECK(r.head_len <= CTL_HEAD_MAX && r.head_len <= size);
		FUZZ_CHECK(r.body == data + r.head_len);
		FUZZ_CHECK(r.body_len <= CTL_BODY_MAX && r.head_len + r.body_len <= size);
		check_str(r.location, sizeof(r.location));
	}
	/* The body (or, when the reply did not parse, the whole input) as a
	 * record and as hit lines. */
	const char *text = rc == 0 ? (const char *)r.body : (const char *)data;
	size_t len = rc == 0 ? r.body_len : size;
	if (ctl_flow_parse(text, len, &f) == 0) {
		check_str(f.kind, sizeof(f.kind));
		check_str(f.target, sizeof(f.target));
		check_str(f.detail, sizeof(f.detail));
		check_str(f.outcome_word, sizeof(f.outcome_word));
		FUZZ_CHECK(f.icmp_type >= -1 && f.icmp_type <= 255);
	}
	if (ctl_hits_find(text, len, "3fa2c01b99e04d1a", &h) == 0) {
		FUZZ_CHECK(strcmp(h.marker, "3fa2c01b99e04d1a") == 0);
		FUZZ_CHECK(h.port <= 65535);
		check_str(h.source, sizeof(h.source));
	}
	(void)ctl_canary_listens(text, len, "tcp", 5060);
	if (ctl_hit_parse(text, len, &h) == 0)
		check_str(h.proto, sizeof(h.proto));
	return 0;
}
