/* MRAS-style credentials: core/mras.c (issue, check: expiry, tampering,
 * another secret, malformed usernames) and sipfront/mras.c (the
 * credentialsRequest a Lync client sends, the credentialsResponse). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/mras.h"
#include "sipfront/mras.h"

#define NOW ((time_t)1796549136)

static int check(const char *secret, time_t now, const char *user, char pass[MRAS_PASSWORD_LEN + 1])
{
	return mras_check(secret, now, (const uint8_t *)user, strlen(user), pass);
}

static void test_issue_then_check(void **state)
{
	(void)state;
	char user[MRAS_USERNAME_MAX], pass[MRAS_PASSWORD_LEN + 1], got[MRAS_PASSWORD_LEN + 1];
	assert_int_equal(mras_issue("s3cret", NOW, 480, "sip:alice@example.com", user, pass), 0);
	/* mras1:EXPIRY:ID:SIG with EXPIRY = now + 480 minutes */
	assert_memory_equal(user, "mras1:1796577936:", 17);
	assert_int_equal(strlen(user), 17 + 16 + 1 + 40);
	assert_int_equal(user[33], ':');
	assert_int_equal(strspn(user + 17, "0123456789abcdef"), 16);
	assert_int_equal(strspn(user + 34, "0123456789abcdef"), 40);
	assert_int_equal(strlen(pass), MRAS_PASSWORD_LEN);
	assert_true(mras_is_username((const uint8_t *)user, strlen(user)));

	assert_int_equal(check("s3cret", NOW, user, got), 0);
	assert_string_equal(got, pass);
	assert_int_equal(check("s3cret", NOW + 480 * 60, user, got), 0); /* the last second */
	assert_int_equal(check("s3cret", NOW + 480 * 60 + 1, user, got), ESTALE);

	/* Another identity: another ID, another password. */
	char user2[MRAS_USERNAME_MAX], pass2[MRAS_PASSWORD_LEN + 1];
	assert_int_equal(mras_issue("s3cret", NOW, 480, "sip:bob@example.com", user2, pass2), 0);
	assert_memory_not_equal(user + 17, user2 + 17, 16);
	assert_string_not_equal(pass, pass2);
}

static void test_refusals(void **state)
{
	(void)state;
	char user[MRAS_USERNAME_MAX], pass[MRAS_PASSWORD_LEN + 1], bad[MRAS_USERNAME_MAX + 8];
	assert_int_equal(mras_issue("s3cret", NOW, 60, "sip:alice@example.com", user, pass), 0);
	assert_int_equal(check("another", NOW, user, pass), EACCES);
	assert_int_equal(check("", NOW, user, pass), EACCES);

	/* Each character of the token changed: refused (the signature covers
	 * expiry and ID; the signature must be exact). */
	for (size_t i = strlen(MRAS_PREFIX); i < strlen(user); i++) {
		if (user[i] == ':')
			continue;
		strcpy(bad, user);
		bad[i] = bad[i] == '1' ? '2' : '1';
		assert_int_equal(check("s3cret", NOW, bad, pass), EACCES);
	}
	static const char *const malformed[] = {
	    "mras1:",
	    "mras1:123",
	    "mras1::0123456789abcdef:0123456789012345678901234567890123456789",
	    "mras1:1:0123456789ABCDEF:0123456789012345678901234567890123456789",
	    "mras1:1:0123456789abcde:0123456789012345678901234567890123456789",
	    "mras1:1:0123456789abcdef:012345678901234567890123456789012345678",
	    "mras1:1:0123456789abcdef:01234567890123456789012345678901234567890",
	    "mras1:-1:0123456789abcdef:0123456789012345678901234567890123456789",
	    "mras2:1:0123456789abcdef:0123456789012345678901234567890123456789",
	    "alice",
	};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		assert_int_equal(check("s3cret", NOW, malformed[i], pass), EACCES);
	assert_false(mras_is_username((const uint8_t *)"alice", 5));
	assert_false(mras_is_username((const uint8_t *)"mras1:", 6));
	/* Too long for a username: refused before anything is copied. */
	memset(bad, '1', sizeof(bad) - 1);
	memcpy(bad, "mras1:", 6);
	bad[sizeof(bad) - 1] = '\0';
	assert_int_equal(check("s3cret", NOW, bad, pass), EACCES);
	assert_int_equal(mras_issue("", NOW, 60, "x", user, pass), EINVAL);
	assert_int_equal(mras_issue("s", NOW, 0, "x", user, pass), EINVAL);
}

/* The body of a Lync 2010 client's SERVICE (as published in Microsoft's
 * blogs on MRAS, with the addresses replaced). */
static const char lync_body[] =
    "<request requestID=\"3757984\" version=\"2.0\" "
    "to=\"sip:edge.example.com@example.com;gruu;opaque=srvr:MRAS:tmsOHGdb9lGxCPJSi2p6eAAA\" "
    "from=\"sip:wcooper@example.com\" xmlns=\"http://schemas.microsoft.com/2006/09/sip/mrasp\" "
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><credentialsRequest "
    "credentialsRequestID=\"3757984\"><identity>sip:wcooper@example.com</identity>"
    "<location>intranet</location><duration>480</duration></credentialsRequest></request>";

static int parse(const char *body, struct sip_mras_request *r)
{
	return sip_mras_parse(body, strlen(body), r);
}

static void test_parse_request(void **state)
{
	(void)state;
	struct sip_mras_request r;
	assert_int_equal(parse(lync_body, &r), 0);
	assert_string_equal(r.request_id, "3757984");
	assert_string_equal(r.credentials_request_id, "3757984");
	assert_string_equal(r.location, "intranet");
	assert_int_equal(r.duration, 480);

	assert_int_equal(parse("<request requestID=\"1\"><credentialsRequest "
	                       "credentialsRequestID=\"a-2\"/></request>",
	                       &r),
	                 0);
	assert_string_equal(r.location, "internet"); /* by default */
	assert_int_equal(r.duration, 0);
	assert_string_equal(r.credentials_request_id, "a-2");

	static const char *const bad[] = {
	    "",
	    "<request requestID=\"1\"></request>",
	    "<credentialsRequest credentialsRequestID=\"1\"/>",
	    "<request><credentialsRequest credentialsRequestID=\"1\"/></request>",
	    "<request requestID=\"1\"><credentialsRequest/></request>",
	    "<request requestID=\"1&quot;\"><credentialsRequest "
	    "credentialsRequestID=\"1\"/></request>",
	    "<request requestID=\"\"><credentialsRequest credentialsRequestID=\"1\"/></request>",
	    "<request requestID=\"123456789012345678901234567890123\"><credentialsRequest "
	    "credentialsRequestID=\"1\"/></request>",
	    "<request requestID=\"1\"><credentialsRequest credentialsRequestID=\"1\">"
	    "<location>moon</location></credentialsRequest></request>",
	    "<request requestID=\"1\"><credentialsRequest credentialsRequestID=\"1\">"
	    "<duration>48x</duration></credentialsRequest></request>",
	    "<request requestID=\"1\"><credentialsRequest credentialsRequestID=\"1\">"
	    "<duration>1234567</duration></credentialsRequest></request>",
	    "<request requestID=\"1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &r), EBADMSG);
	char *big = malloc(SIP_MRAS_BODY_MAX + 2);
	memset(big, ' ', SIP_MRAS_BODY_MAX + 1);
	big[SIP_MRAS_BODY_MAX + 1] = '\0';
	assert_int_equal(parse(big, &r), EMSGSIZE);
	free(big);
}

static void test_response(void **state)
{
	(void)state;
	struct sip_mras_request r;
	struct sip_mras_relay relay = {"av.edge.example", 3478, 443};
	char *out;
	size_t len;
	assert_int_equal(parse(lync_body, &r), 0);
	assert_int_equal(sip_mras_response(&r, "VVNFUg==", "UEFTUw==", 60, &relay, &out, &len), 0);
	assert_int_equal(len, strlen(out));
	assert_non_null(strstr(out, "requestID=\"3757984\""));
	assert_non_null(strstr(out, "<credentialsResponse credentialsRequestID=\"3757984\">"
	                            "<credentials><username>VVNFUg==</username>"
	                            "<password>UEFTUw==</password><duration>60</duration>"
	                            "</credentials>"));
	assert_non_null(strstr(out, "<mediaRelay><location>intranet</location>"
	                            "<hostName>av.edge.example</hostName><udpPort>3478</udpPort>"
	                            "<tcpPort>443</tcpPort></mediaRelay>"));
	free(out);
	relay.tcp_port = 0;
	assert_int_equal(sip_mras_response(&r, "a", "b", 1, &relay, &out, &len), 0);
	assert_null(strstr(out, "tcpPort"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_issue_then_check),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_parse_request),
	    cmocka_unit_test(test_response),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
