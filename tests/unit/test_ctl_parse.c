/* probe/control_client.h's pure parts: the HTTP reply, a flow's record,
 * canary hit lines, the --control target and the token file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "probe/control_client.h"

static int parse(const char *s, bool eof, struct ctl_reply *r)
{
	return ctl_reply_parse((const uint8_t *)s, strlen(s), eof, r);
}

static void test_reply_complete(void **state)
{
	(void)state;
	struct ctl_reply r;
	const char *s = "HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\n"
	                "location:  /flows/17 \r\nContent-Length: 5\r\n\r\nhello";
	assert_int_equal(parse(s, false, &r), 0);
	assert_int_equal(r.status, 202);
	assert_string_equal(r.location, "/flows/17");
	assert_int_equal(r.body_len, 5);
	assert_memory_equal(r.body, "hello", 5);
	assert_int_equal(r.head_len, strlen(s) - 5);
	/* Bytes past Content-Length are not the body. */
	assert_int_equal(parse("HTTP/1.0 200 OK\nContent-Length: 2\n\nokEXTRA", false, &r), 0);
	assert_int_equal(r.body_len, 2);
	/* No Content-Length: the body ends with the connection. */
	assert_int_equal(parse("HTTP/1.0 200 OK\r\n\r\nid: 1\n", false, &r), EAGAIN);
	assert_int_equal(parse("HTTP/1.0 200 OK\r\n\r\nid: 1\n", true, &r), 0);
	assert_int_equal(r.body_len, 6);
	assert_string_equal(r.location, "");
	/* A status line without a reason. */
	assert_int_equal(parse("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", false, &r), 0);
	assert_int_equal(r.status, 404);
}

static void test_reply_incomplete(void **state)
{
	(void)state;
	struct ctl_reply r;
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345";
	for (size_t i = 0; i < strlen(s); i++)
		assert_int_equal(ctl_reply_parse((const uint8_t *)s, i, false, &r), EAGAIN);
	assert_int_equal(parse(s, false, &r), EAGAIN);
	assert_int_equal(parse(s, true, &r), EBADMSG); /* closed before the body's end */
	assert_int_equal(ctl_reply_parse(NULL, 0, true, &r), EBADMSG);
}

static void test_reply_malformed(void **state)
{
	(void)state;
	struct ctl_reply r;
	static const char *const bad[] = {
	    "HTTP/2 200 OK\r\n\r\n",
	    "HTTP/1.1 20 OK\r\n\r\n",
	    "HTTP/1.1 2000 OK\r\n\r\n",
	    "HTTP/1.1 099 Low\r\n\r\n",
	    "ICY 200 OK\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
	    "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], true, &r), EBADMSG);
	/* The same Content-Length twice is fine. */
	assert_int_equal(
	    parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", true, &r),
	    0);
}

static void test_reply_limits(void **state)
{
	(void)state;
	struct ctl_reply r;
	char *big = malloc(CTL_HEAD_MAX + CTL_BODY_MAX + 64);
	assert_non_null(big);
	snprintf(big, 64, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", CTL_BODY_MAX + 1);
	assert_int_equal(parse(big, false, &r), EMSGSIZE);
	/* Exactly the limit is fine. */
	int n = snprintf(big, 64, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", CTL_BODY_MAX);
	memset(big + n, 'x', CTL_BODY_MAX);
	assert_int_equal(ctl_reply_parse((uint8_t *)big, (size_t)n + CTL_BODY_MAX, false, &r), 0);
	assert_int_equal(r.body_len, CTL_BODY_MAX);
	/* Without Content-Length, more than the limit. */
	n = snprintf(big, 64, "HTTP/1.1 200 OK\r\n\r\n");
	memset(big + n, 'x', CTL_BODY_MAX + 1);
	assert_int_equal(ctl_reply_parse((uint8_t *)big, (size_t)n + CTL_BODY_MAX + 1, true, &r),
	                 EMSGSIZE);
	/* Headers over CTL_HEAD_MAX, complete or not. */
	n = snprintf(big, 64, "HTTP/1.1 200 OK\r\nX: ");
	memset(big + n, 'y', CTL_HEAD_MAX);
	assert_int_equal(ctl_reply_parse((uint8_t *)big, (size_t)n + CTL_HEAD_MAX, false, &r),
	                 EMSGSIZE);
	memcpy(big + n + CTL_HEAD_MAX, "\r\n\r\n", 4);
	assert_int_equal(ctl_reply_parse((uint8_t *)big, (size_t)n + CTL_HEAD_MAX + 4, true, &r),
	                 EMSGSIZE);
	/* A Location that does not fit. */
	n = snprintf(big, 64, "HTTP/1.1 202 OK\r\nLocation: /");
	memset(big + n, 'z', CTL_LOCATION_MAX);
	memcpy(big + n + CTL_LOCATION_MAX, "\r\n\r\n", 5);
	assert_int_equal(parse(big, true, &r), EMSGSIZE);
	free(big);
}

static void test_flow_record(void **state)
{
	(void)state;
	struct ctl_flow f;
	const char *s = "id: 17\r\nkind: row5\ndialect: msturn\ntarget: 192.0.2.10:3478\n"
	                "source: 198.51.100.10:50123\noutcome: icmp\nicmp-type: 3\nicmp-code: 3\n"
	                "icmp-from: 192.0.2.1\nseconds: 0.004\nnew-key: whatever: it is\n"
	                "no separator\n:\ndetail: the edge's STUN request drew ICMP";
	assert_int_equal(ctl_flow_parse(s, strlen(s), &f), 0);
	assert_int_equal(f.id, 17);
	assert_string_equal(f.kind, "row5");
	assert_string_equal(f.dialect, "msturn");
	assert_string_equal(f.target, "192.0.2.10:3478");
	assert_string_equal(f.source, "198.51.100.10:50123");
	assert_int_equal(f.outcome, CTL_OUTCOME_ICMP);
	assert_string_equal(f.outcome_word, "icmp");
	assert_int_equal(f.icmp_type, 3);
	assert_int_equal(f.icmp_code, 3);
	assert_string_equal(f.icmp_from, "192.0.2.1");
	assert_string_equal(f.detail, "the edge's STUN request drew ICMP");
	assert_string_equal(f.dns_name, "");
	s = "kind: row2\noutcome: dns\ndns-name: _sipfederationtls._tcp.b.example\n"
	    "detail: timeout: SRV _sipfederationtls._tcp.b.example: no answer\n";
	assert_int_equal(ctl_flow_parse(s, strlen(s), &f), 0);
	assert_int_equal(f.outcome, CTL_OUTCOME_DNS);
	assert_string_equal(f.dns_name, "_sipfederationtls._tcp.b.example");
	assert_string_equal(f.detail, "timeout: SRV _sipfederationtls._tcp.b.example: no answer");

	static const struct {
		const char *word;
		enum ctl_outcome o;
	} words[] = {
	    {"pending", CTL_OUTCOME_PENDING},
	    {"answered", CTL_OUTCOME_ANSWERED},
	    {"connected", CTL_OUTCOME_CONNECTED},
	    {"reset", CTL_OUTCOME_RESET},
	    {"tls-failed", CTL_OUTCOME_TLS_FAILED},
	    {"timeout", CTL_OUTCOME_TIMEOUT},
	    {"error", CTL_OUTCOME_ERROR},
	    {"cancelled", CTL_OUTCOME_CANCELLED},
	    {"dns", CTL_OUTCOME_DNS},
	    {"exploded", CTL_OUTCOME_UNKNOWN},
	    {"", CTL_OUTCOME_UNKNOWN},
	};
	char buf[64];
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		int n = snprintf(buf, sizeof(buf), "outcome: %s\n", words[i].word);
		assert_int_equal(ctl_flow_parse(buf, (size_t)n, &f), 0);
		assert_int_equal(f.outcome, words[i].o);
		assert_int_equal(f.id, -1);
		assert_int_equal(f.icmp_type, -1);
	}
	/* No outcome line; a bad number; a value longer than its field. */
	assert_int_equal(ctl_flow_parse("id: 3\nkind: row4\n", 18, &f), EBADMSG);
	assert_int_equal(ctl_flow_parse(NULL, 0, &f), EBADMSG);
	assert_int_equal(ctl_flow_parse("outcome:reset\n", 14, &f), EBADMSG); /* ": " it is */
	s = "outcome: reset\nicmp-type: 300\nid: 12x\nkind: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n";
	assert_int_equal(ctl_flow_parse(s, strlen(s), &f), 0);
	assert_int_equal(f.icmp_type, -1);
	assert_int_equal(f.id, -1);
	assert_int_equal(strlen(f.kind), sizeof(f.kind) - 1);
	/* Only len bytes are read: the outcome past it does not count. */
	s = "id: 1\noutcome: reset\n";
	assert_int_equal(ctl_flow_parse(s, 6, &f), EBADMSG);
}

static void test_canary_hits(void **state)
{
	(void)state;
	struct ctl_hit h;
	const char *line = "hit: 3 tcp 5060 192.0.2.10:40122 1796566330123 marker=3fa2c01b99e04d1a";
	assert_int_equal(ctl_hit_parse(line, strlen(line), &h), 0);
	assert_int_equal(h.id, 3);
	assert_string_equal(h.proto, "tcp");
	assert_int_equal(h.port, 5060);
	assert_string_equal(h.source, "192.0.2.10:40122");
	assert_true(h.ms == 1796566330123ULL);
	assert_string_equal(h.marker, "3fa2c01b99e04d1a");
	line = "hit: 4 udp 3479 [2001:db8::1]:5000 1 marker=-";
	assert_int_equal(ctl_hit_parse(line, strlen(line), &h), 0);
	assert_string_equal(h.marker, "");
	assert_string_equal(h.source, "[2001:db8::1]:5000");

	static const char *const bad[] = {
	    "hit: 3 tcp 5060 192.0.2.10:1 1",            /* no marker */
	    "hit: 3 tcp 70000 192.0.2.10:1 1 marker=a",  /* port */
	    "hit: x tcp 5060 192.0.2.10:1 1 marker=a",   /* id */
	    "hit: 3 tcp 5060 192.0.2.10:1 1 marker=a b", /* one word too many */
	    "hit: 3 tcp 5060 192.0.2.10:1 1 mark=a",     /* not marker= */
	    "hit: 3 tcp 5060 192.0.2.10:1 1 marker=a/b", /* not a marker's character */
	    "hit: 3 sctp 5060 192.0.2.10:1 1 marker=a",  /* proto too long */
	    "hits: 3 tcp 5060 192.0.2.10:1 1 marker=a",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ctl_hit_parse(bad[i], strlen(bad[i]), &h), EBADMSG);

	const char *text = "hit: 1 udp 5060 192.0.2.10:1 5 marker=-\r\n"
	                   "garbage\n"
	                   "hit: 2 udp 5060 192.0.2.10:2 6 marker=abc1\n"
	                   "hit: 3 tcp 80 192.0.2.10:3 7 marker=abc\n";
	assert_int_equal(ctl_hits_find(text, strlen(text), "abc", &h), 0);
	assert_int_equal(h.id, 3);
	assert_int_equal(ctl_hits_find(text, strlen(text), "abc1", &h), 0);
	assert_int_equal(h.id, 2);
	assert_int_equal(ctl_hits_find(text, strlen(text), "zzz", &h), ENOENT);
	assert_int_equal(ctl_hits_find(text, strlen(text), "", &h), ENOENT); /* not "-" */
	assert_int_equal(ctl_hits_find("", 0, "abc", &h), ENOENT);

	/* Where the canaries listen: "listening: PROTO PORT..." lines. */
	const char *ports = "listening: tcp 80 3478 5060\r\n"
	                    "listening: udp 3479\n"
	                    "listening: tcpx 443\n"
	                    "hit: 1 tcp 443 192.0.2.10:1 5 marker=-\n";
	assert_true(ctl_canary_listens(ports, strlen(ports), "tcp", 80));
	assert_true(ctl_canary_listens(ports, strlen(ports), "tcp", 5060));
	assert_true(ctl_canary_listens(ports, strlen(ports), "udp", 3479));
	assert_false(ctl_canary_listens(ports, strlen(ports), "udp", 5060));
	assert_false(ctl_canary_listens(ports, strlen(ports), "tcp", 443)); /* a hit, tcpx */
	assert_false(ctl_canary_listens(ports, strlen(ports), "tcp", 8));   /* not a prefix */
	assert_false(ctl_canary_listens("", 0, "tcp", 80));
	assert_false(ctl_canary_listens(NULL, 0, "tcp", 80));
}

static void test_target(void **state)
{
	(void)state;
	struct ctl_target t;
	memset(&t, 0, sizeof(t));
	assert_int_equal(ctl_target_parse("/run/edgelab/control.sock", &t), 0);
	assert_int_equal(t.kind, CTL_UNIX);
	assert_string_equal(t.path, "/run/edgelab/control.sock");
	assert_int_equal(ctl_target_parse("https://203.0.113.1:8443", &t), 0);
	assert_int_equal(t.kind, CTL_HTTPS);
	assert_string_equal(t.host, "203.0.113.1");
	assert_int_equal(t.port, 8443);
	assert_string_equal(t.spec, "https://203.0.113.1:8443");
	assert_int_equal(ctl_target_parse("https://[2001:db8::1]:443", &t), 0);
	assert_string_equal(t.host, "2001:db8::1");
	assert_int_equal(t.port, 443);
	assert_int_equal(ctl_target_parse("https://edge.example:8443", &t), 0);
	assert_string_equal(t.host, "edge.example");
	static const char *const bad[] = {
	    "",
	    "http://203.0.113.1:8443",
	    "https://203.0.113.1",
	    "https://203.0.113.1:0",
	    "https://203.0.113.1:65536",
	    "https://203.0.113.1:84x",
	    "https://:8443",
	    "https://2001:db8::1:443",
	    "https://[2001:db8::1]443",
	    "https://a/b:443",
	    "ftp://x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ctl_target_parse(bad[i], &t), EINVAL);
}

static void test_token(void **state)
{
	(void)state;
	char path[] = "/tmp/edgelab-token.XXXXXX", tok[CTL_TOKEN_MAX + 1];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("0123456789abcdef-token \t\nsecond line\n", f);
	fclose(f);
	assert_int_equal(ctl_token_read(path, tok, sizeof(tok)), 0);
	assert_string_equal(tok, "0123456789abcdef-token");
	f = fopen(path, "w");
	fputs("short\n", f);
	fclose(f);
	assert_int_equal(ctl_token_read(path, tok, sizeof(tok)), EINVAL);
	f = fopen(path, "w");
	fputs("0123456789abcdef\x01\n", f);
	fclose(f);
	assert_int_equal(ctl_token_read(path, tok, sizeof(tok)), EINVAL);
	unlink(path);
	assert_int_equal(ctl_token_read(path, tok, sizeof(tok)), ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply_complete),  cmocka_unit_test(test_reply_incomplete),
	    cmocka_unit_test(test_reply_malformed), cmocka_unit_test(test_reply_limits),
	    cmocka_unit_test(test_flow_record),     cmocka_unit_test(test_canary_hits),
	    cmocka_unit_test(test_target),          cmocka_unit_test(test_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
