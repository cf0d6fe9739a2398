/* probe row 6 in both STUN dialects against a fake edge on loopback (a
 * thread): the request the probe sends in each dialect, the verdicts on
 * edgelab's own Binding service (relay/binding.c), on an MS-TURN answer with
 * only MAPPED-ADDRESS, and on an answer in the wrong dialect; probe_run's
 * one result per selected dialect, RFC 5389 first; --dialect's parser. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/addr.h"
#include "probe/probe.h"
#include "relay/binding.h"
#include "stun/stun.h"

enum edge_mode {
	EDGE_BINDING,       /* relay/binding.c answers, as serve does */
	EDGE_MS_PLAIN,      /* MS-TURN success with MAPPED-ADDRESS only */
	EDGE_WRONG_DIALECT, /* an RFC 5389 success whatever the request */
};

struct fake_edge {
	enum edge_mode mode;
	unsigned answers; /* how many requests to answer before stopping */
	int fd;
	uint16_t port;
	pthread_t thread;
	uint8_t last_req[STUN_MAX_MSG_LEN]; /* the last request, as received */
	size_t last_len;
};

static void fake_answer(struct fake_edge *e, const uint8_t *req, size_t len,
                        const struct sockaddr_storage *from, uint8_t *out, size_t *out_len)
{
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	struct stun_msg msg;
	struct stun_enc enc;
	*out_len = 0;
	getsockname(e->fd, (struct sockaddr *)&local, &llen);
	if (e->mode == EDGE_BINDING) {
		struct binding_opts opts = {.software = "fake"};
		struct binding_outcome oc;
		binding_answer(req, len, (const struct sockaddr *)from, (struct sockaddr *)&local,
		               &opts, out, STUN_MAX_MSG_LEN, out_len, &oc);
		return;
	}
	if (stun_msg_decode(&msg, req, len))
		return;
	stun_enc_init(&enc, out, STUN_MAX_MSG_LEN,
	              e->mode == EDGE_MS_PLAIN ? STUN_DIALECT_MSTURN : STUN_DIALECT_RFC5389,
	              stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS), msg.tid);
	if (e->mode == EDGE_MS_PLAIN)
		stun_enc_addr(&enc, STUN_MSATTR_MAPPED_ADDRESS, (const struct sockaddr *)from);
	else
		stun_enc_xor_addr(&enc, STUN_ATTR_XOR_MAPPED_ADDRESS,
		                  (const struct sockaddr *)from);
	if (stun_enc_finish(&enc, out_len))
		*out_len = 0;
}

/* Answers e->answers requests, or gives up after 5 s without one. */
static void *fake_edge_run(void *arg)
{
	struct fake_edge *e = arg;
	uint8_t buf[STUN_MAX_MSG_LEN], out[STUN_MAX_MSG_LEN];
	for (unsigned done = 0; done < e->answers;) {
		struct pollfd pfd = {.fd = e->fd, .events = POLLIN};
		if (poll(&pfd, 1, 5000) <= 0)
			break;
		struct sockaddr_storage from;
		socklen_t alen = sizeof(from);
		ssize_t n = recvfrom(e->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &alen);
		if (n <= 0)
			continue;
		memcpy(e->last_req, buf, (size_t)n);
		e->last_len = (size_t)n;
		size_t len;
		fake_answer(e, buf, (size_t)n, &from, out, &len);
		if (len && sendto(e->fd, out, len, 0, (struct sockaddr *)&from, alen) > 0)
			done++;
	}
	return NULL;
}

static void fake_edge_start(struct fake_edge *e, enum edge_mode mode, unsigned answers)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	memset(e, 0, sizeof(*e));
	e->mode = mode;
	e->answers = answers;
	e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(e->fd >= 0);
	assert_int_equal(bind(e->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(e->fd, (struct sockaddr *)&sin, &len), 0);
	e->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&e->thread, NULL, fake_edge_run, e), 0);
}

static void fake_edge_stop(struct fake_edge *e)
{
	pthread_join(e->thread, NULL);
	close(e->fd);
}

static void opts_for(struct probe_opts *o, const struct fake_edge *e, enum stun_dialect d)
{
	probe_opts_default(o);
	assert_int_equal(addr_parse("127.0.0.1", 0, &o->edge), 0);
	o->stun_port = e->port;
	o->timeout_ms = 2000;
	o->dialect = d;
}

/* Row 6 once in dialect d against a fake edge in mode. */
static void row6(enum edge_mode mode, enum stun_dialect d, struct probe_result *r,
                 struct fake_edge *e)
{
	struct probe_opts o;
	fake_edge_start(e, mode, 1);
	opts_for(&o, e, d);
	memset(r, 0, sizeof(*r));
	probe_row_stun_in(&o, r);
	fake_edge_stop(e);
	print_message("# %s: %s %s\n", r->dialect, probe_verdict_name(r->verdict), r->detail);
}

/* Row 6 in dialect d against edgelab's Binding service: PASS with detail,
 * and the request the probe sent, decoded in that dialect. */
static void pass_on_binding(enum stun_dialect d, const char *detail, struct fake_edge *e,
                            struct stun_msg *req)
{
	struct probe_result r;
	row6(EDGE_BINDING, d, &r, e);
	assert_int_equal(r.verdict, VERDICT_PASS);
	assert_string_equal(r.dialect, stun_dialect_name(d));
	assert_non_null(strstr(r.detail, detail));
	assert_int_equal(stun_msg_decode(req, e->last_req, e->last_len), 0);
	assert_int_equal(req->dialect, d);
}

static void test_rfc5389_request_and_pass(void **state)
{
	(void)state;
	struct fake_edge e;
	struct stun_msg msg;
	pass_on_binding(STUN_DIALECT_RFC5389, "our own address; software fake", &e, &msg);
	assert_non_null(stun_msg_attr(&msg, STUN_ATTR_SOFTWARE));
	assert_int_equal(stun_msg_check_fingerprint(&msg), 0);
}

/* Teams' shape: MAGIC-COOKIE first and nothing else, the transaction id
 * 0x2112A442 and 12 random bytes; edgelab's service answers with 0x8020. */
static void test_msturn_request_and_pass(void **state)
{
	(void)state;
	static const uint8_t cookie_attr[] = {0x00, 0x0F, 0x00, 0x04, 0x72, 0xC6, 0x4B, 0xC6};
	static const uint8_t rfc_cookie[] = {0x21, 0x12, 0xA4, 0x42};
	struct fake_edge e;
	struct stun_msg msg;
	pass_on_binding(STUN_DIALECT_MSTURN, "our own address; MS-TURN XOR-MAPPED-ADDRESS (0x8020)",
	                &e, &msg);
	assert_int_equal(e.last_len, STUN_HDR_LEN + sizeof(cookie_attr));
	assert_memory_equal(e.last_req + 4, rfc_cookie, sizeof(rfc_cookie));
	assert_memory_equal(e.last_req + STUN_HDR_LEN, cookie_attr, sizeof(cookie_attr));
	assert_int_equal(msg.cls, STUN_CLASS_REQUEST);
	assert_int_equal(msg.method, STUN_METHOD_BINDING);
	assert_null(stun_msg_attr(&msg, STUN_ATTR_SOFTWARE));
	assert_null(stun_msg_attr(&msg, STUN_ATTR_FINGERPRINT));
}

static void test_msturn_mapped_address_only(void **state)
{
	(void)state;
	struct fake_edge e;
	struct probe_result r;
	row6(EDGE_MS_PLAIN, STUN_DIALECT_MSTURN, &r, &e);
	assert_int_equal(r.verdict, VERDICT_PASS);
	assert_non_null(strstr(r.detail, "our own address; MS-TURN MAPPED-ADDRESS"));
}

/* An answer in the other dialect cannot be read by the client that asked
 * (0x0020 is no MS-TURN attribute, 0x8020 no RFC 5389 one): FAILED, saying
 * so, both ways round. */
static void test_wrong_dialect_fails(void **state)
{
	(void)state;
	static const struct {
		enum edge_mode mode;
		enum stun_dialect asked;
		const char *detail;
	} cases[] = {
	    {EDGE_WRONG_DIALECT, STUN_DIALECT_MSTURN,
	     "answer is in the rfc5389 dialect, not msturn"},
	    {EDGE_MS_PLAIN, STUN_DIALECT_RFC5389, "answer is in the msturn dialect, not rfc5389"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_edge e;
		struct probe_result r;
		row6(cases[i].mode, cases[i].asked, &r, &e);
		assert_int_equal(r.verdict, VERDICT_FAILED);
		assert_string_equal(r.detail, cases[i].detail);
	}
}

static void run_rows(unsigned dialects, unsigned answers, struct probe_result *res, size_t *n)
{
	struct fake_edge e;
	struct probe_opts o;
	fake_edge_start(&e, EDGE_BINDING, answers);
	opts_for(&o, &e, STUN_DIALECT_RFC5389);
	assert_int_equal(rows_parse_mask("6", &o.rows), 0);
	o.dialects = dialects;
	probe_run(&o, res, PROBE_MAX_RESULTS, n);
	fake_edge_stop(&e);
}

static void test_probe_run_per_dialect(void **state)
{
	(void)state;
	struct probe_result res[PROBE_MAX_RESULTS];
	size_t n;
	unsigned mask;

	assert_int_equal(probe_dialects_parse("both", &mask), 0);
	run_rows(mask, 2, res, &n);
	assert_int_equal(n, 2);
	assert_int_equal(res[0].row, 6);
	assert_string_equal(res[0].dialect, "rfc5389");
	assert_int_equal(res[0].verdict, VERDICT_PASS);
	assert_int_equal(res[1].row, 6);
	assert_string_equal(res[1].dialect, "msturn");
	assert_int_equal(res[1].verdict, VERDICT_PASS);

	assert_int_equal(probe_dialects_parse("msturn", &mask), 0);
	run_rows(mask, 1, res, &n);
	assert_int_equal(n, 1);
	assert_string_equal(res[0].dialect, "msturn");
	assert_int_equal(res[0].verdict, VERDICT_PASS);

	assert_int_equal(probe_dialects_parse("rfc5389", &mask), 0);
	run_rows(mask, 1, res, &n);
	assert_int_equal(n, 1);
	assert_string_equal(res[0].dialect, "rfc5389");
}

static void test_dialects_parse(void **state)
{
	(void)state;
	struct probe_opts o;
	unsigned mask = 0;
	probe_opts_default(&o);
	assert_int_equal(o.dialects, PROBE_DIALECTS_BOTH); /* the default */
	assert_int_equal(probe_dialects_parse("classic", &mask), EINVAL);
	assert_int_equal(probe_dialects_parse("", &mask), EINVAL);
	assert_int_equal(probe_dialects_parse("MSTURN", &mask), EINVAL);
	assert_int_equal(probe_dialects_parse(NULL, &mask), EINVAL);
	assert_int_equal(mask, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc5389_request_and_pass),
	    cmocka_unit_test(test_msturn_request_and_pass),
	    cmocka_unit_test(test_msturn_mapped_address_only),
	    cmocka_unit_test(test_wrong_dialect_fails),
	    cmocka_unit_test(test_probe_run_per_dialect),
	    cmocka_unit_test(test_dialects_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
