/* The probe's SIP client pieces without a network: sipc_digest answering
 * sipfront/auth.c's own challenge (the registrar lets the REGISTER in, a
 * wrong password is refused) and a challenge without qop (libre's check),
 * the challenges it cannot answer; fed_im's names, hops and refusal of
 * unusable options (probe/fed_im.h). The run itself is
 * tests/cli/test_fed_im.sh, against two edges. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/conf.h"
#include "probe/fed_im.h"
#include "probe/sip_client.h"
#include "sipfront/auth.h"

/* After sipmsg.h (through the headers above): libre's need its types first. */
#include <re_httpauth.h>
#include <re_md5.h>

#define NOW ((time_t)1796549136)

static struct sip_msg *decode(const char *text)
{
	struct sip_msg *m = NULL;
	assert_int_equal(sipmsg_decode(&m, (const uint8_t *)text, strlen(text)), 0);
	return m;
}

/* A message of alice@a.example's REGISTER transaction: first is its start
 * line, extra header lines ("" or "Name: value\r\n...") go before the end. */
static struct sip_msg *message(const char *first, const char *extra)
{
	char text[2048];
	snprintf(text, sizeof(text),
	         "%s\r\n"
	         "Via: SIP/2.0/TLS 192.0.2.1:5060;branch=z9hG4bKx\r\n"
	         "From: <sip:alice@a.example>;tag=1\r\n"
	         "To: <sip:alice@a.example>\r\n"
	         "Call-ID: c1\r\n"
	         "CSeq: 1 REGISTER\r\n"
	         "%s"
	         "Content-Length: 0\r\n\r\n",
	         first, extra);
	return decode(text);
}

static struct sip_msg *register_with(const char *extra)
{
	return message("REGISTER sip:a.example SIP/2.0", extra);
}

static struct sip_msg *unauthorized(const char *challenge)
{
	return message("SIP/2.0 401 Unauthorized", challenge);
}

static void test_digest_against_the_registrar(void **state)
{
	(void)state;
	struct conf *conf = NULL;
	char err[256], challenge[300], auth[1024];
	uint8_t secret[SIP_AUTH_SECRET_LEN];
	assert_int_equal(conf_defaults(&conf), 0);
	assert_int_equal(conf_set(conf, "sip_domain", "a.example", err, sizeof(err)), 0);
	assert_int_equal(conf_set(conf, "sip_user", "alice s3cret", err, sizeof(err)), 0);
	assert_int_equal(sip_auth_secret_init(secret), 0);

	struct sip_msg *req = register_with("");
	assert_int_equal(sip_auth_register(conf, secret, req, NOW, challenge, sizeof(challenge)),
	                 EACCES);
	mem_deref(req);
	struct sip_msg *resp = unauthorized(challenge);

	assert_int_equal(
	    sipc_digest(resp, "alice", "s3cret", "REGISTER", "sip:a.example", auth, sizeof(auth)),
	    0);
	assert_non_null(strstr(auth, "qop=auth, nc=00000001, cnonce=\""));
	assert_int_equal(auth[strlen(auth) - 1], '\n');
	req = register_with(auth);
	assert_int_equal(sip_auth_register(conf, secret, req, NOW, challenge, sizeof(challenge)),
	                 0);
	mem_deref(req);

	assert_int_equal(
	    sipc_digest(resp, "alice", "wrong", "REGISTER", "sip:a.example", auth, sizeof(auth)),
	    0);
	req = register_with(auth);
	assert_int_equal(sip_auth_register(conf, secret, req, NOW, challenge, sizeof(challenge)),
	                 EACCES);
	mem_deref(req);

	assert_int_equal(
	    sipc_digest(resp, "alice", "s3cret", "REGISTER", "sip:a.example", auth, 40), ENOSPC);
	mem_deref(resp);
	conf_unref(conf);
}

static void test_digest_without_qop(void **state)
{
	(void)state;
	char auth[1024];
	uint8_t ha1[MD5_SIZE];
	struct httpauth_digest_resp dr;
	struct sip_msg *resp = unauthorized(
	    "WWW-Authenticate: Digest realm=\"b.example\", nonce=\"n0nce\", opaque=\"op\"\r\n");
	assert_int_equal(
	    sipc_digest(resp, "bob", "pw", "REGISTER", "sip:b.example", auth, sizeof(auth)), 0);
	mem_deref(resp);
	assert_null(strstr(auth, "qop="));
	assert_non_null(strstr(auth, "opaque=\"op\""));
	/* The header's value, as a registrar reads it, checked by libre. */
	struct pl val = {auth + strlen("Authorization: "),
	                 strlen(auth) - strlen("Authorization: ") - 2};
	assert_int_equal(httpauth_digest_response_decode(&dr, &val), 0);
	assert_int_equal(md5_printf(ha1, "bob:b.example:pw"), 0);
	struct pl met = {"REGISTER", 8};
	assert_int_equal(httpauth_digest_response_auth(&dr, &met, ha1), 0);
	assert_int_equal(md5_printf(ha1, "bob:b.example:other"), 0);
	assert_int_not_equal(httpauth_digest_response_auth(&dr, &met, ha1), 0);
}

static void test_digest_refusals(void **state)
{
	(void)state;
	char auth[1024];
	static const struct {
		const char *challenge;
		int rc;
	} cases[] = {
	    {"", ENOENT},
	    {"WWW-Authenticate: Basic realm=\"a\"\r\n", ENOENT},
	    {"WWW-Authenticate: Digest realm=\"a\", nonce=\"n\", algorithm=SHA-256\r\n", ENOTSUP},
	    {"WWW-Authenticate: Digest realm=\"a\", nonce=\"n\", qop=\"auth-int\"\r\n", ENOTSUP},
	    {"WWW-Authenticate: Digest realm=\"a\", nonce=\"n\", qop=\"auth-int,auth\"\r\n", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_msg *resp = unauthorized(cases[i].challenge);
		assert_int_equal(
		    sipc_digest(resp, "u", "p", "REGISTER", "sip:a", auth, sizeof(auth)),
		    cases[i].rc);
		mem_deref(resp);
	}
	assert_int_equal(sipc_digest(NULL, "u", "p", "REGISTER", "sip:a", auth, sizeof(auth)),
	                 EINVAL);
}

static void test_names_and_hops(void **state)
{
	(void)state;
	for (int f = FED_IM_FAULT_NONE; f <= FED_IM_FAULT_LOST; f++) {
		assert_string_not_equal(fed_im_fault_name((enum fed_im_fault)f), "?");
		assert_string_not_equal(fed_im_hop_name(fed_im_fault_hop((enum fed_im_fault)f)),
		                        "?");
	}
	assert_string_equal(fed_im_fault_name(FED_IM_FAULT_FEDERATION), "federation");
	assert_int_equal(fed_im_fault_hop(FED_IM_FAULT_FEDERATION), FED_IM_HOP_FEDERATION);
	assert_int_equal(fed_im_fault_hop(FED_IM_FAULT_CALLER_TLS), FED_IM_HOP_CALLER);
	assert_int_equal(fed_im_fault_hop(FED_IM_FAULT_CALLEE_UNKNOWN), FED_IM_HOP_CALLEE);
	assert_int_equal(fed_im_fault_hop(FED_IM_FAULT_NONE), FED_IM_HOP_NONE);
	assert_string_equal(fed_im_stage_name(FED_IM_STAGE_DELIVERED), "delivered");
	assert_string_equal(fed_im_stage_name((enum fed_im_stage)99), "?");
}

static void test_run_refuses_unusable_options(void **state)
{
	(void)state;
	struct fed_im_result r;
	struct fed_im_opts o = {
	    .a = {.aor_user = "alice", .domain = "a.example", .external = true},
	    .b = {.aor_user = "bob", .domain = "b.example", .external = true},
	};
	assert_int_equal(fed_im_run(&o, &r), EINVAL); /* no client of ours */
	assert_int_equal(r.a_to_b.fault, FED_IM_FAULT_LOCAL);
	assert_non_null(strstr(r.b_to_a.why, "both users are external"));
	o.b.external = false; /* then bob needs his edge, its name and CA */
	assert_int_equal(fed_im_run(&o, &r), EINVAL);
	assert_false(r.a_to_b.ran);
	assert_int_equal(fed_im_run(NULL, &r), EINVAL);
	assert_int_equal(fed_im_run(&o, NULL), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_digest_against_the_registrar),
	    cmocka_unit_test(test_digest_without_qop),
	    cmocka_unit_test(test_digest_refusals),
	    cmocka_unit_test(test_names_and_hops),
	    cmocka_unit_test(test_run_refuses_unusable_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
