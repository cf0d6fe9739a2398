/* Unit tests of the SIP message layer over libre (sipfront/sipmsg.h):
 * decoding real messages (RFC 3261, RFC 3428, RFC 3665), the proxy's
 * validation with its reasons, Max-Forwards, extension header lookup and
 * names that libre's header hash confuses with the headers it parses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sipfront/sipmsg.h"

/* Messages are written with "\n" line ends and sent with "\r\n". */
#define MSG_MAX 8192

/* RFC 3665 section 2.1 F1. */
static const char reg_f1[] =
    "REGISTER sips:ss2.biloxi.example.com SIP/2.0\n"
    "Via: SIP/2.0/TLS client.biloxi.example.com:5061;branch=z9hG4bKnashds7\n"
    "Max-Forwards: 70\n"
    "From: Bob <sips:bob@biloxi.example.com>;tag=a73kszlfl\n"
    "To: Bob <sips:bob@biloxi.example.com>\n"
    "Call-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com\n"
    "CSeq: 1 REGISTER\n"
    "Contact: <sips:bob@client.biloxi.example.com>\n"
    "Content-Length: 0\n"
    "\n";

/* RFC 3665 section 2.1 F4. */
static const char ok_f4[] =
    "SIP/2.0 200 OK\n"
    "Via: SIP/2.0/TLS client.biloxi.example.com:5061;branch=z9hG4bKnashd92;received=192.0.2.201\n"
    "From: Bob <sips:bob@biloxi.example.com>;tag=ja743ks76zlflH\n"
    "To: Bob <sips:bob@biloxi.example.com>;tag=37GkEhwl6\n"
    "Call-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com\n"
    "CSeq: 2 REGISTER\n"
    "Contact: <sips:bob@client.biloxi.example.com>;expires=3600\n"
    "Content-Length: 0\n"
    "\n";

/* RFC 3261 section 11.1. */
static const char options_11[] = "OPTIONS sip:carol@chicago.com SIP/2.0\n"
                                 "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKhjhs8ass877\n"
                                 "Max-Forwards: 70\n"
                                 "To: <sip:carol@chicago.com>\n"
                                 "From: Alice <sip:alice@atlanta.com>;tag=1928301774\n"
                                 "Call-ID: a84b4c76e66710\n"
                                 "CSeq: 63104 OPTIONS\n"
                                 "Contact: <sip:alice@pc33.atlanta.com>\n"
                                 "Accept: application/sdp\n"
                                 "Content-Length: 0\n"
                                 "\n";

/* RFC 3428 section 4, with Lync's trust header. */
static const char message_3428[] = "MESSAGE sip:user2@domain.com SIP/2.0\n"
                                   "Via: SIP/2.0/TCP user1pc.domain.com;branch=z9hG4bK776sgdkse\n"
                                   "Max-Forwards: 70\n"
                                   "From: sip:user1@domain.com;tag=49583\n"
                                   "To: sip:user2@domain.com\n"
                                   "Call-ID: asd88asd77a@1.2.3.4\n"
                                   "CSeq: 1 MESSAGE\n"
                                   "ms-edge-proxy-message-trust: ms-source-type=InternetUser\n"
                                   "Content-Type: text/plain\n"
                                   "Content-Length: 18\n"
                                   "\n"
                                   "Watson, come here.";

static size_t to_crlf(char *out, const char *lf)
{
	size_t n = 0;

	for (; *lf != '\0'; lf++) {
		assert_true(n + 2 < MSG_MAX);
		if (*lf == '\n')
			out[n++] = '\r';
		out[n++] = *lf;
	}
	out[n] = '\0';
	return n;
}

static struct sip_msg *decode_ok(const char *lf)
{
	static char buf[MSG_MAX];
	struct sip_msg *msg = NULL;
	size_t n = to_crlf(buf, lf);

	assert_int_equal(sipmsg_decode(&msg, (const uint8_t *)buf, n), 0);
	assert_non_null(msg);
	return msg;
}

/* The reason validate gives for a message, or "ok"; "undecodable" when
 * libre refuses it. */
static const char *verdict(const char *lf)
{
	static char buf[MSG_MAX];
	struct sip_msg *msg = NULL;
	const char *why = NULL;
	size_t n = to_crlf(buf, lf);
	int err;

	if (sipmsg_decode(&msg, (const uint8_t *)buf, n) != 0)
		return "undecodable";
	err = sipmsg_validate(msg, &why);
	mem_deref(msg);
	if (err == 0) {
		assert_null(why);
		return "ok";
	}
	assert_int_equal(err, EBADMSG);
	assert_non_null(why);
	return why;
}

/* A copy of base with the line that starts with `line` replaced by repl
 * (the empty string deletes it). */
static const char *edit(const char *base, const char *line, const char *repl)
{
	static char out[MSG_MAX];
	const char *at = strstr(base, line), *eol;

	assert_non_null(at);
	eol = strchr(at, '\n');
	assert_non_null(eol);
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - base), base, repl, eol + 1);
	return out;
}

static void test_sipmsg_decode_register(void **state)
{
	struct sip_msg *msg = decode_ok(reg_f1);
	int mf = -1;

	(void)state;
	assert_true(msg->req);
	assert_int_equal(pl_strcmp(&msg->met, "REGISTER"), 0);
	assert_int_equal(pl_strcmp(&msg->uri.host, "ss2.biloxi.example.com"), 0);
	assert_int_equal(pl_strcmp(&msg->callid, "1j9FpLxk3uxtm8tn@biloxi.example.com"), 0);
	assert_int_equal(msg->cseq.num, 1);
	assert_int_equal(msg->via.tp, SIP_TRANSP_TLS);
	assert_int_equal(pl_strcmp(&msg->via.branch, "z9hG4bKnashds7"), 0);
	assert_int_equal(pl_strcmp(&msg->from.tag, "a73kszlfl"), 0);
	assert_int_equal(pl_strcmp(&msg->to.auri, "sips:bob@biloxi.example.com"), 0);
	assert_int_equal(sipmsg_max_forwards(msg, &mf), 0);
	assert_int_equal(mf, 70);
	assert_string_equal(verdict(reg_f1), "ok");
	mem_deref(msg);
}

static void test_sipmsg_decode_options(void **state)
{
	struct sip_msg *msg = decode_ok(options_11);

	(void)state;
	assert_true(msg->req);
	assert_int_equal(pl_strcmp(&msg->met, "OPTIONS"), 0);
	assert_int_equal(msg->cseq.num, 63104);
	assert_int_equal(pl_strcmp(&msg->from.dname, "Alice"), 0);
	assert_true(sipmsg_has_header(msg, "Accept"));
	assert_string_equal(verdict(options_11), "ok");
	mem_deref(msg);
}

static void test_sipmsg_decode_message(void **state)
{
	struct sip_msg *msg = decode_ok(message_3428);

	(void)state;
	assert_int_equal(pl_strcmp(&msg->met, "MESSAGE"), 0);
	assert_int_equal(msg_ctype_cmp(&msg->ctyp, "text", "plain"), true);
	assert_int_equal(mbuf_get_left(msg->mb), 18);
	assert_memory_equal(mbuf_buf(msg->mb), "Watson, come here.", 18);
	assert_string_equal(verdict(message_3428), "ok");
	mem_deref(msg);
}

static void test_sipmsg_decode_response(void **state)
{
	struct sip_msg *msg = decode_ok(ok_f4);
	int mf;

	(void)state;
	assert_false(msg->req);
	assert_int_equal(msg->scode, 200);
	assert_int_equal(pl_strcmp(&msg->reason, "OK"), 0);
	assert_int_equal(pl_strcmp(&msg->cseq.met, "REGISTER"), 0);
	assert_int_equal(pl_strcmp(&msg->to.tag, "37GkEhwl6"), 0);
	assert_int_equal(sipmsg_max_forwards(msg, &mf), ENOENT);
	assert_string_equal(verdict(ok_f4), "ok");
	mem_deref(msg);
}

static void test_sipmsg_decode_refused(void **state)
{
	static const char *const bad[] = {
	    "hello\n\n",
	    "OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/TLS a.example;branch=z9hG4bK1\n",
	    "OPTIONS sip:a@b SIP/2.0\nVia: nonsense\nContent-Length: 0\n\n",
	    "OPTIONS sip:a@b SIP/2.0\nCSeq: 1\nContent-Length: 0\n\n",
	    "OPTIONS sip:a@b SIP/2.0\nNoColon\nContent-Length: 0\n\n",
	    "OPTIONS sip:a@b SIP/3.0\nContent-Length: 0\n\n",
	};
	struct sip_msg *msg = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_string_equal(verdict(bad[i]), "undecodable");
	assert_int_equal(sipmsg_decode(&msg, (const uint8_t *)"", 0), EBADMSG);
	assert_int_equal(sipmsg_decode(NULL, (const uint8_t *)"x", 1), EINVAL);
	assert_null(msg);
}

static void test_sipmsg_validate_missing(void **state)
{
	(void)state;
	assert_string_equal(verdict(edit(options_11, "Via:", "")), "Missing Via");
	assert_string_equal(verdict(edit(options_11, "From:", "")), "Missing From");
	assert_string_equal(verdict(edit(options_11, "To:", "")), "Missing To");
	assert_string_equal(verdict(edit(options_11, "Call-ID:", "")), "Missing Call-ID");
	assert_string_equal(verdict(edit(options_11, "Call-ID:", "Call-ID:\n")), "Missing Call-ID");
	assert_string_equal(verdict(edit(options_11, "CSeq:", "")), "Missing CSeq");
	assert_string_equal(verdict(edit(options_11, "Content-Length:", "")),
	                    "Missing Content-Length");
	assert_string_equal(verdict(edit(ok_f4, "Via:", "")), "Missing Via");
	assert_string_equal(verdict(edit(ok_f4, "Call-ID:", "")), "Missing Call-ID");
}

static void test_sipmsg_validate_duplicates(void **state)
{
	(void)state;
	assert_string_equal(verdict(edit(options_11, "Call-ID:", "Call-ID: a\ni: b\n")),
	                    "Duplicate Call-ID");
	assert_string_equal(verdict(edit(options_11, "To:", "To: <sip:a@b>\nTo: <sip:c@d>\n")),
	                    "Duplicate To");
	assert_string_equal(verdict(edit(options_11, "Max-Forwards:",
	                                 "Max-Forwards: 70\n"
	                                 "Max-Forwards: 69\n")),
	                    "Duplicate Max-Forwards");
}

static void test_sipmsg_validate_cseq(void **state)
{
	(void)state;
	assert_string_equal(verdict(edit(options_11, "CSeq:", "CSeq: 63104 INVITE\n")),
	                    "CSeq method mismatch");
	/* methods are case-sensitive (RFC 3261 section 7.1) */
	assert_string_equal(verdict(edit(options_11, "CSeq:", "CSeq: 1 options\n")),
	                    "CSeq method mismatch");
	assert_string_equal(verdict(edit(options_11, "CSeq:", "CSeq: 2147483648 OPTIONS\n")),
	                    "Bad CSeq");
	/* 2^32 + 1: libre's number wraps to 1 */
	assert_string_equal(verdict(edit(options_11, "CSeq:", "CSeq: 4294967297 OPTIONS\n")),
	                    "Bad CSeq");
	assert_string_equal(verdict(edit(options_11, "CSeq:", "CSeq: 2147483647 OPTIONS\n")), "ok");
	/* a response's CSeq names the request's method, not the response's */
	assert_string_equal(verdict(edit(ok_f4, "CSeq:", "CSeq: 2 INVITE\n")), "ok");
}

static void test_sipmsg_validate_status(void **state)
{
	(void)state;
	assert_string_equal(verdict(edit(ok_f4, "SIP/2.0 200", "SIP/2.0 700 Bad\n")),
	                    "Bad status code");
	assert_string_equal(verdict(edit(ok_f4, "SIP/2.0 200", "SIP/2.0 099 Early\n")),
	                    "Bad status code");
	assert_string_equal(verdict(edit(ok_f4, "SIP/2.0 200", "SIP/2.0 2000 OK\n")),
	                    "Bad status code");
	/* 65736 is 200 in libre's uint16_t */
	assert_string_equal(verdict(edit(ok_f4, "SIP/2.0 200", "SIP/2.0 65736 OK\n")),
	                    "Bad status code");
	assert_string_equal(verdict(edit(ok_f4, "SIP/2.0 200", "SIP/2.0 699 Last\n")), "ok");
	assert_string_equal(verdict(edit(ok_f4, "SIP/2.0 200", "SIP/3.0 200 OK\n")),
	                    "Unsupported SIP version");
	/* libre reads a request of another version as a response */
	assert_string_equal(verdict(edit(ok_f4, "SIP/2.0 200", "INVITE 200 SIP/3.0\n")),
	                    "Unsupported SIP version");
}

static void test_sipmsg_validate_limits(void **state)
{
	static char msg[MSG_MAX];
	char hdrs[4096];
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < 32; i++)
		n += (size_t)snprintf(hdrs + n, sizeof(hdrs) - n,
		                      "Via: SIP/2.0/TLS p%zu.example;branch=z9hG4bK%zu\n", i, i);
	snprintf(msg, MSG_MAX, "%s", edit(options_11, "Via:", hdrs));
	assert_string_equal(verdict(msg), "ok");
	/* one Via header with a 33rd value after a comma counts too */
	snprintf(msg, MSG_MAX, "%s",
	         edit(options_11, "Via:",
	              "Via: SIP/2.0/TLS a.example;branch=z9hG4bKa, "
	              "SIP/2.0/TLS b.example;branch=z9hG4bKb\n"));
	assert_string_equal(verdict(msg), "ok");
	n -= 1; /* the last "\n" */
	n += (size_t)snprintf(hdrs + n, sizeof(hdrs) - n,
	                      ", SIP/2.0/TLS q.example;branch=z9hG4bKq\n");
	snprintf(msg, MSG_MAX, "%s", edit(options_11, "Via:", hdrs));
	assert_string_equal(verdict(msg), "Too many Via headers");

	/* options_11 has 9 header lines; Accept replaced by 93 is one too many */
	for (n = 0, i = 0; i < 93; i++)
		n += (size_t)snprintf(hdrs + n, sizeof(hdrs) - n, "X-Pad-%zu: %zu\n", i, i);
	snprintf(msg, MSG_MAX, "%s", edit(options_11, "Accept:", hdrs));
	assert_string_equal(verdict(msg), "Too many headers");
	/* edit() returns a static buffer: copy before editing again */
	snprintf(msg, MSG_MAX, "%s", edit(options_11, "Accept:", hdrs));
	snprintf(msg, MSG_MAX, "%s", edit(msg, "X-Pad-92:", ""));
	assert_string_equal(verdict(msg), "ok");
}

static void test_sipmsg_validate_content_length(void **state)
{
	(void)state;
	assert_string_equal(verdict(edit(message_3428, "Content-Length:", "Content-Length: 17\n")),
	                    "Content-Length mismatch");
	assert_string_equal(verdict(edit(message_3428, "Content-Length:", "Content-Length: 19\n")),
	                    "Content-Length mismatch");
	assert_string_equal(verdict(edit(message_3428, "Content-Length:", "l: 18\n")), "ok");
	assert_string_equal(
	    verdict(edit(message_3428, "Content-Length:", "Content-Length: 18\nl: 0\n")),
	    "Content-Length mismatch");
}

static void test_sipmsg_max_forwards_parse(void **state)
{
	static const struct {
		const char *line;
		int err, value;
	} cases[] = {
	    {"Max-Forwards: 0\n", 0, 0},
	    {"Max-Forwards: 255\n", 0, 255},
	    {"Max-Forwards:   7  \n", 0, 7},
	    {"Max-Forwards: 256\n", EBADMSG, 0},
	    {"Max-Forwards: -1\n", EBADMSG, 0},
	    {"Max-Forwards: 7a\n", EBADMSG, 0},
	    {"Max-Forwards:\n", EBADMSG, 0},
	    {"Max-Forwards: 4294967366\n", EBADMSG, 0},
	    {"", ENOENT, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_msg *msg = decode_ok(edit(options_11, "Max-Forwards:", cases[i].line));
		int v = -1;

		assert_int_equal(sipmsg_max_forwards(msg, &v), cases[i].err);
		if (cases[i].err == 0)
			assert_int_equal(v, cases[i].value);
		mem_deref(msg);
	}
	assert_string_equal(verdict(edit(options_11, "Max-Forwards:", "Max-Forwards: 256\n")),
	                    "Bad Max-Forwards");
}

static void test_sipmsg_has_header_lookup(void **state)
{
	struct sip_msg *msg = decode_ok(message_3428);

	(void)state;
	assert_true(sipmsg_has_header(msg, "ms-edge-proxy-message-trust"));
	assert_true(sipmsg_has_header(msg, "MS-Edge-Proxy-Message-Trust"));
	assert_false(sipmsg_has_header(msg, "ms-edge-proxy-message"));
	assert_false(sipmsg_has_header(msg, "X-Foo"));
	assert_false(sipmsg_has_header(NULL, "Via"));
	mem_deref(msg);
	msg = decode_ok(edit(options_11, "Accept:", "X-Foo: 1\n"));
	assert_true(sipmsg_has_header(msg, "x-foo"));
	mem_deref(msg);
}

/* Lync's ms-client-diagnostics hashes (libre's 12-bit header id) like To:
 * libre alone refuses the message or takes it for the To. */
static void test_sipmsg_hash_collision(void **state)
{
	static char raw[MSG_MAX];
	const char *lines[] = {
	    "ms-client-diagnostics: 51004; reason=\"Action initiated by user\"\n",
	    "ms-client-diagnostics: <sip:mallory@evil.example>\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		const char *text = edit(ok_f4, "Contact:", lines[i]);
		struct sip_msg *msg = decode_ok(text);
		size_t n = to_crlf(raw, text);

		assert_int_equal(pl_strcmp(&msg->to.auri, "sips:bob@biloxi.example.com"), 0);
		assert_true(sipmsg_has_header(msg, "ms-client-diagnostics"));
		/* the bytes are given back as they came */
		assert_int_equal(msg->mb->end, n);
		assert_memory_equal(msg->mb->buf, raw, n);
		assert_string_equal(verdict(text), "ok");
		mem_deref(msg);
	}
}

static void test_sipmsg_pl_copy_truncates(void **state)
{
	struct pl pl = {"hello", 5};
	struct pl nul = {"he\0lo", 5};
	char buf[8];

	(void)state;
	assert_int_equal(sipmsg_pl_copy(buf, sizeof(buf), &pl), 0);
	assert_string_equal(buf, "hello");
	assert_int_equal(sipmsg_pl_copy(buf, 6, &pl), 0);
	assert_int_equal(sipmsg_pl_copy(buf, 5, &pl), ENOSPC);
	assert_string_equal(buf, "hell");
	assert_int_equal(sipmsg_pl_copy(buf, 1, &pl), ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(sipmsg_pl_copy(buf, sizeof(buf), &nul), EBADMSG);
	assert_string_equal(buf, "he");
	assert_int_equal(sipmsg_pl_copy(buf, sizeof(buf), NULL), 0);
	assert_string_equal(buf, "");
	assert_int_equal(sipmsg_pl_copy(buf, 0, &pl), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sipmsg_decode_register),
	    cmocka_unit_test(test_sipmsg_decode_options),
	    cmocka_unit_test(test_sipmsg_decode_message),
	    cmocka_unit_test(test_sipmsg_decode_response),
	    cmocka_unit_test(test_sipmsg_decode_refused),
	    cmocka_unit_test(test_sipmsg_validate_missing),
	    cmocka_unit_test(test_sipmsg_validate_duplicates),
	    cmocka_unit_test(test_sipmsg_validate_cseq),
	    cmocka_unit_test(test_sipmsg_validate_status),
	    cmocka_unit_test(test_sipmsg_validate_limits),
	    cmocka_unit_test(test_sipmsg_validate_content_length),
	    cmocka_unit_test(test_sipmsg_max_forwards_parse),
	    cmocka_unit_test(test_sipmsg_has_header_lookup),
	    cmocka_unit_test(test_sipmsg_hash_collision),
	    cmocka_unit_test(test_sipmsg_pl_copy_truncates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
