/* Unit tests of SIP stream framing (sipfront/frame.h, RFC 3261 section
 * 18.3): whole and split messages, Content-Length forms and errors, limits,
 * control bytes and RFC 5626 CRLF keep-alives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipfront/frame.h"

/* RFC 3428 section 4: a MESSAGE with an 18-byte body. */
static const char rfc3428_message[] =
    "MESSAGE sip:user2@domain.com SIP/2.0\r\n"
    "Via: SIP/2.0/TCP user1pc.domain.com;branch=z9hG4bK776sgdkse\r\n"
    "Max-Forwards: 70\r\n"
    "From: sip:user1@domain.com;tag=49583\r\n"
    "To: sip:user2@domain.com\r\n"
    "Call-ID: asd88asd77a@1.2.3.4\r\n"
    "CSeq: 1 MESSAGE\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 18\r\n"
    "\r\n"
    "Watson, come here.";

/* RFC 3665 section 2.1 F1, over TLS, no body. */
static const char rfc3665_register[] =
    "REGISTER sips:ss2.biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TLS client.biloxi.example.com:5061;branch=z9hG4bKnashds7\r\n"
    "Max-Forwards: 70\r\n"
    "From: Bob <sips:bob@biloxi.example.com>;tag=a73kszlfl\r\n"
    "To: Bob <sips:bob@biloxi.example.com>\r\n"
    "Call-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com\r\n"
    "CSeq: 1 REGISTER\r\n"
    "Contact: <sips:bob@client.biloxi.example.com>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static enum sip_frame_status frame(const void *buf, size_t len, size_t *frame_len,
                                   enum sip_frame_error *why)
{
	return sip_frame_next(buf, len, frame_len, why);
}

/* The status of a message made of the start line, one header line and a
 * body; *why receives the error. */
static enum sip_frame_status frame_with(const char *hdr, const char *body,
                                        enum sip_frame_error *why, size_t *frame_len)
{
	char buf[512];
	int n =
	    snprintf(buf, sizeof(buf), "OPTIONS sip:a@b.example SIP/2.0\r\n%s\r\n%s", hdr, body);

	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return frame(buf, (size_t)n, frame_len, why);
}

static void test_sip_frame_whole_message(void **state)
{
	enum sip_frame_error why;
	size_t len = 0;

	(void)state;
	assert_int_equal(frame(rfc3428_message, strlen(rfc3428_message), &len, &why),
	                 SIP_FRAME_MESSAGE);
	assert_int_equal(len, strlen(rfc3428_message));
	assert_int_equal(why, SIP_FRAME_ERR_NONE);
	assert_int_equal(frame(rfc3665_register, strlen(rfc3665_register), &len, &why),
	                 SIP_FRAME_MESSAGE);
	assert_int_equal(len, strlen(rfc3665_register));
}

/* Every proper prefix asks for more; the whole message is one frame. */
static void test_sip_frame_split_every_byte(void **state)
{
	const char *msgs[] = {rfc3428_message, rfc3665_register};
	enum sip_frame_error why;
	size_t i, k, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		size_t total = strlen(msgs[i]);

		for (k = 1; k < total; k++) {
			len = 99;
			assert_int_equal(frame(msgs[i], k, &len, &why), SIP_FRAME_MORE);
			assert_int_equal(len, 0);
		}
		assert_int_equal(frame(msgs[i], total, &len, &why), SIP_FRAME_MESSAGE);
		assert_int_equal(len, total);
	}
}

static void test_sip_frame_back_to_back(void **state)
{
	char buf[2048];
	size_t a = strlen(rfc3428_message), b = strlen(rfc3665_register), len;
	enum sip_frame_error why;

	(void)state;
	memcpy(buf, rfc3428_message, a);
	memcpy(buf + a, rfc3665_register, b);
	assert_int_equal(frame(buf, a + b, &len, &why), SIP_FRAME_MESSAGE);
	assert_int_equal(len, a);
	assert_int_equal(frame(buf + a, b, &len, &why), SIP_FRAME_MESSAGE);
	assert_int_equal(len, b);
	/* the second one's first bytes after a whole first one */
	assert_int_equal(frame(buf, a + 7, &len, &why), SIP_FRAME_MESSAGE);
	assert_int_equal(frame(buf + a, 7, &len, &why), SIP_FRAME_MORE);
}

static void test_sip_frame_compact_length(void **state)
{
	enum sip_frame_error why;
	size_t len;

	(void)state;
	assert_int_equal(frame_with("l: 5\r\n", "hello", &why, &len), SIP_FRAME_MESSAGE);
	assert_int_equal(len, 33 + 6 + 2 + 5);
	assert_int_equal(frame_with("L:5\r\n", "hello", &why, &len), SIP_FRAME_MESSAGE);
	/* "lx" and "length" are other headers: no Content-Length at all */
	assert_int_equal(frame_with("lx: 5\r\n", "hello", &why, &len), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_NO_LENGTH);
}

/* RFC 3261 section 7.3.1: header names are case-insensitive. */
static void test_sip_frame_case_insensitive(void **state)
{
	enum sip_frame_error why;
	size_t len;

	(void)state;
	assert_int_equal(frame_with("content-LENGTH: 2\r\n", "hi", &why, &len), SIP_FRAME_MESSAGE);
	assert_int_equal(frame_with("CONTENT-LENGTH: 2\r\n", "hi", &why, &len), SIP_FRAME_MESSAGE);
	assert_int_equal(frame_with("Content-Length: 3\r\n", "hi", &why, &len), SIP_FRAME_MORE);
}

/* Whitespace around the colon and the value, and a value folded onto a
 * continuation line (RFC 3261 section 7.3.1). */
static void test_sip_frame_folded_whitespace(void **state)
{
	static const char *const hdrs[] = {
	    "Content-Length :\t2 \r\n",
	    "Content-Length:\r\n 2\r\n",
	    "Content-Length:\r\n\t  2\r\n  \r\n",
	    "Via: SIP/2.0/TLS a.example;branch=z9hG4bK1\r\n Content-Length: 9\r\nl: 2\r\n",
	};
	enum sip_frame_error why;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		assert_int_equal(frame_with(hdrs[i], "hi", &why, &len), SIP_FRAME_MESSAGE);
		assert_int_equal(why, SIP_FRAME_ERR_NONE);
	}
}

/* RFC 3261 section 18.3: on a stream Content-Length MUST be present; we
 * cannot know where a message without one ends, so it is an error. */
static void test_sip_frame_missing_length(void **state)
{
	enum sip_frame_error why;
	size_t len;

	(void)state;
	assert_int_equal(frame_with("Call-ID: x\r\n", "", &why, &len), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_NO_LENGTH);
	assert_int_equal(frame("OPTIONS sip:a SIP/2.0\r\n\r\n", 25, &len, &why), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_NO_LENGTH);
	/* a name without its colon is no Content-Length */
	assert_int_equal(frame_with("Content-Length 0\r\n", "", &why, &len), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_NO_LENGTH);
}

static void test_sip_frame_duplicate_length(void **state)
{
	enum sip_frame_error why;
	size_t len;

	(void)state;
	assert_int_equal(frame_with("Content-Length: 2\r\nl: 02\r\n", "hi", &why, &len),
	                 SIP_FRAME_MESSAGE);
	assert_int_equal(frame_with("Content-Length: 2\r\nContent-Length: 0\r\n", "hi", &why, &len),
	                 SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_BAD_LENGTH);
}

static void test_sip_frame_bad_length(void **state)
{
	static const char *const hdrs[] = {
	    "Content-Length: -1\r\n",   "Content-Length: 2x\r\n",  "Content-Length:\r\n",
	    "Content-Length: 2, 2\r\n", "Content-Length: 0x2\r\n", "Content-Length: 2 2\r\n",
	};
	enum sip_frame_error why;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		assert_int_equal(frame_with(hdrs[i], "hi", &why, &len), SIP_FRAME_ERROR);
		assert_int_equal(why, SIP_FRAME_ERR_BAD_LENGTH);
	}
}

static void test_sip_frame_huge_length(void **state)
{
	enum sip_frame_error why;
	size_t len;

	(void)state;
	assert_int_equal(
	    frame_with("Content-Length: 99999999999999999999999999\r\n", "", &why, &len),
	    SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_BODY_TOO_LONG);
	assert_int_equal(frame_with("Content-Length: 65537\r\n", "", &why, &len), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_BODY_TOO_LONG);
	/* the limit itself is allowed: wait for the body */
	assert_int_equal(frame_with("Content-Length: 65536\r\n", "abc", &why, &len),
	                 SIP_FRAME_MORE);
}

static void test_sip_frame_headers_over_limit(void **state)
{
	size_t cap = SIP_FRAME_HEADERS_MAX + 64, len, n;
	char *buf = malloc(cap);
	enum sip_frame_error why;
	const char *start = "OPTIONS sip:a SIP/2.0\r\nContent-Length: 0\r\nX-Pad: ";

	(void)state;
	assert_non_null(buf);
	memset(buf, 'a', cap);
	memcpy(buf, start, strlen(start));
	/* no blank line yet: more, until the limit */
	assert_int_equal(frame(buf, SIP_FRAME_HEADERS_MAX - 1, &len, &why), SIP_FRAME_MORE);
	assert_int_equal(frame(buf, SIP_FRAME_HEADERS_MAX, &len, &why), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_HEADERS_TOO_LONG);
	assert_int_equal(frame(buf, cap, &len, &why), SIP_FRAME_ERROR);
	/* a header block of exactly SIP_FRAME_HEADERS_MAX bytes is accepted */
	n = SIP_FRAME_HEADERS_MAX;
	memcpy(buf + n - 4, "\r\n\r\n", 4);
	assert_int_equal(frame(buf, n, &len, &why), SIP_FRAME_MESSAGE);
	assert_int_equal(len, n);
	memcpy(buf + n - 4, "a\r\n\r", 4);
	memcpy(buf + n, "\n", 1);
	assert_int_equal(frame(buf, n + 1, &len, &why), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_HEADERS_TOO_LONG);
	free(buf);
}

static void test_sip_frame_nul_in_headers(void **state)
{
	static const char nul_hdr[] = "OPTIONS sip:a SIP/2.0\r\nSubject: a\0b\r\nl: 0\r\n\r\n";
	static const char nul_body[] = "OPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\na\0b";
	enum sip_frame_error why;
	size_t len;

	(void)state;
	assert_int_equal(frame(nul_hdr, sizeof(nul_hdr) - 1, &len, &why), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_BINARY);
	/* reported as soon as it is seen, before the end of the headers */
	assert_int_equal(frame(nul_hdr, 36, &len, &why), SIP_FRAME_ERROR);
	/* a body is binary-safe */
	assert_int_equal(frame(nul_body, sizeof(nul_body) - 1, &len, &why), SIP_FRAME_MESSAGE);
	assert_int_equal(len, sizeof(nul_body) - 1);
	assert_int_equal(frame_with("Subject: \x01\r\nl: 0\r\n", "", &why, &len), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_BINARY);
	assert_int_equal(frame_with("Subject: \x7f\r\nl: 0\r\n", "", &why, &len), SIP_FRAME_ERROR);
	/* UTF-8 is text (RFC 3261 section 25.1) */
	assert_int_equal(frame_with("Subject: caf\xc3\xa9\r\nl: 0\r\n", "", &why, &len),
	                 SIP_FRAME_MESSAGE);
}

/* Lines end in CRLF (RFC 3261 section 7); a bare LF or CR would let libre
 * and the framer disagree on where the headers end. */
static void test_sip_frame_bare_line_ends(void **state)
{
	static const char lf[] = "OPTIONS sip:a SIP/2.0\nl: 0\n\n";
	static const char cr[] = "OPTIONS sip:a SIP/2.0\r\nl: 0\rX: y\r\n\r\n";
	static const char mixed[] = "OPTIONS sip:a SIP/2.0\r\nl: 0\n\r\n";
	enum sip_frame_error why;
	size_t len;

	(void)state;
	assert_int_equal(frame(lf, sizeof(lf) - 1, &len, &why), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_BINARY);
	assert_int_equal(frame(cr, sizeof(cr) - 1, &len, &why), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_BINARY);
	assert_int_equal(frame(mixed, sizeof(mixed) - 1, &len, &why), SIP_FRAME_ERROR);
	/* a CR at the end of what we have waits for its LF */
	assert_int_equal(frame(cr, 28, &len, &why), SIP_FRAME_MORE);
}

/* RFC 5626 section 3.5.1: "\r\n\r\n" is a ping, "\r\n" a pong. */
static void test_sip_frame_keepalive(void **state)
{
	enum sip_frame_error why;
	size_t len;

	(void)state;
	assert_int_equal(frame("\r\n\r\n", 4, &len, &why), SIP_FRAME_KEEPALIVE);
	assert_int_equal(len, 4);
	assert_int_equal(frame("\r\n", 2, &len, &why), SIP_FRAME_KEEPALIVE);
	assert_int_equal(len, 2);
	assert_int_equal(frame("\r\n\r\n\r\n", 6, &len, &why), SIP_FRAME_KEEPALIVE);
	assert_int_equal(len, 4);
	assert_int_equal(frame("\r", 1, &len, &why), SIP_FRAME_MORE);
	assert_int_equal(frame("\r\n\r", 3, &len, &why), SIP_FRAME_MORE);
	assert_int_equal(frame("", 0, &len, &why), SIP_FRAME_MORE);
	assert_int_equal(frame("\n", 1, &len, &why), SIP_FRAME_ERROR);
	assert_int_equal(why, SIP_FRAME_ERR_BINARY);
	assert_int_equal(frame("\rx", 2, &len, &why), SIP_FRAME_ERROR);
	assert_int_equal(frame("\r\n\rx", 4, &len, &why), SIP_FRAME_ERROR);
}

/* RFC 3261 section 7.5: CRLFs before a start line are ignored: the caller
 * drops them as keep-alives, then frames the message. */
static void test_sip_frame_leading_crlf(void **state)
{
	char buf[1024];
	size_t n = strlen(rfc3665_register), off = 0, len;
	enum sip_frame_error why;
	enum sip_frame_status st;
	int keepalives = 0;

	(void)state;
	memcpy(buf, "\r\n\r\n\r\n", 6);
	memcpy(buf + 6, rfc3665_register, n);
	while ((st = frame(buf + off, 6 + n - off, &len, &why)) == SIP_FRAME_KEEPALIVE) {
		off += len;
		keepalives++;
	}
	assert_int_equal(st, SIP_FRAME_MESSAGE);
	assert_int_equal(off, 6);
	assert_int_equal(keepalives, 2);
	assert_int_equal(len, n);
}

static void test_sip_frame_error_str(void **state)
{
	enum sip_frame_error e;

	(void)state;
	for (e = SIP_FRAME_ERR_NONE; e <= SIP_FRAME_ERR_BINARY; e++) {
		assert_non_null(sip_frame_error_str(e));
		assert_true(strlen(sip_frame_error_str(e)) > 0);
	}
	assert_string_equal(sip_frame_error_str(SIP_FRAME_ERR_NO_LENGTH), "missing Content-Length");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sip_frame_whole_message),
	    cmocka_unit_test(test_sip_frame_split_every_byte),
	    cmocka_unit_test(test_sip_frame_back_to_back),
	    cmocka_unit_test(test_sip_frame_compact_length),
	    cmocka_unit_test(test_sip_frame_case_insensitive),
	    cmocka_unit_test(test_sip_frame_folded_whitespace),
	    cmocka_unit_test(test_sip_frame_missing_length),
	    cmocka_unit_test(test_sip_frame_duplicate_length),
	    cmocka_unit_test(test_sip_frame_bad_length),
	    cmocka_unit_test(test_sip_frame_huge_length),
	    cmocka_unit_test(test_sip_frame_headers_over_limit),
	    cmocka_unit_test(test_sip_frame_nul_in_headers),
	    cmocka_unit_test(test_sip_frame_bare_line_ends),
	    cmocka_unit_test(test_sip_frame_keepalive),
	    cmocka_unit_test(test_sip_frame_leading_crlf),
	    cmocka_unit_test(test_sip_frame_error_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
