/* probe/report: the matrix as a table, JSON, JUnit XML, TAP and an HTML
 * page, with hostile detail strings (a detail may quote what a peer sent). */
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

#include "core/escape.h"
#include "probe/report.h"

/* Quotes, markup, an ampersand, a newline, a backslash, a tab, a control
 * byte, a '#', a UTF-8 letter and an invalid byte. */
#define HOSTILE "say \"hi\" <b>&amp;\nnext\\line\there\x01#x \xc3\xa9 \xff"

static const struct report_meta meta = {"198.51.100.10", "2024-05-01T10:00:00Z", 7.25};

static struct probe_result results[] = {
    {6, "client -> edge STUN/UDP", "rfc5389", VERDICT_PASS, "mapped 192.0.2.10:40000", 0.012, 0.001,
     0.013, "", "", ""},
    {6, "client -> edge STUN/UDP", "msturn", VERDICT_FAILED, HOSTILE, 0.5, 0.001, 0.501, "", "",
     ""},
    {1, "partner -> edge SIP/MTLS", "", VERDICT_BLOCKED, "no answer in 2s", 2.0, 0.002, 2.002, "",
     "", ""},
    {3, "client -> edge SIP/TLS", "", VERDICT_REJECTED, "connection refused (RST)", 0.001, 0.002,
     0.003, "", "", ""},
    {2, "edge -> partner SIP/MTLS", "", VERDICT_PASS, "", 0.0, 0.0, 0.0, "", "", ""},
};

#define NRESULTS (sizeof(results) / sizeof(results[0]))

/* The whole report as a string (caller frees). */
static char *render(enum report_format fmt, const struct probe_result *res, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(report_write(f, fmt, &meta, res, n), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("missing: %s\n--- in ---\n%s", needle, hay);
}

static void assert_absent(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("unexpected: %s\n--- in ---\n%s", needle, hay);
}

/* The report's last line(s), exactly: the summary. */
static void assert_ends_with(const char *hay, const char *tail)
{
	size_t n = strlen(hay), t = strlen(tail);
	if (n < t || strcmp(hay + n - t, tail) != 0)
		fail_msg("does not end with: %s\n--- it is ---\n%s", tail, hay);
}

static size_t count(const char *hay, const char *needle)
{
	size_t k = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		k++;
	return k;
}

static void test_report_names(void **state)
{
	(void)state;
	enum report_format f;
	assert_string_equal(probe_verdict_name(VERDICT_PASS), "PASS");
	assert_string_equal(probe_verdict_name(VERDICT_BLOCKED), "BLOCKED");
	assert_string_equal(probe_verdict_name(VERDICT_REJECTED), "REJECTED");
	assert_string_equal(probe_verdict_name(VERDICT_FAILED), "FAILED");
	assert_string_equal(probe_verdict_name(VERDICT_CLOSED), "CLOSED");
	assert_string_equal(probe_verdict_name(VERDICT_EXPOSED), "EXPOSED");
	assert_string_equal(probe_verdict_name((enum probe_verdict)42), "UNKNOWN");
	assert_int_equal(report_format_parse("table", &f), 0);
	assert_int_equal(f, REPORT_TABLE);
	assert_int_equal(report_format_parse("json", &f), 0);
	assert_int_equal(f, REPORT_JSON);
	assert_int_equal(report_format_parse("junit", &f), 0);
	assert_int_equal(f, REPORT_JUNIT);
	assert_int_equal(report_format_parse("tap", &f), 0);
	assert_int_equal(f, REPORT_TAP);
	assert_int_equal(report_format_parse("html", &f), 0);
	assert_int_equal(f, REPORT_HTML);
	assert_int_equal(report_format_parse("HTML", &f), EINVAL);
	assert_int_equal(report_format_parse("xml", &f), EINVAL);
	assert_int_equal(report_format_parse("", &f), EINVAL);
}

/* What a row line shows at the start of a column, or NULL: nothing. */
static const char *cell(size_t i, const char *heading)
{
	if (strcmp(heading, "VERDICT") == 0)
		return probe_verdict_name(results[i].verdict);
	if (strcmp(heading, "DIALECT") == 0)
		return results[i].dialect[0] ? results[i].dialect : NULL;
	return results[i].detail[0] ? "" : NULL; /* DETAIL: anything but a blank */
}

/* Every row line has its cell where the column's heading starts. */
static void assert_aligned(const char *s, const char *heading)
{
	const char *head = strstr(s, "ROW  ");
	assert_non_null(head);
	size_t col = (size_t)(strstr(head, heading) - head);
	const char *line = strchr(head, '\n') + 1;
	for (size_t i = 0; i < NRESULTS; i++) {
		const char *want = cell(i, heading);
		if (want)
			assert_true(line[col - 1] == ' ');
		if (want && *want)
			assert_memory_equal(line + col, want, strlen(want));
		else if (want)
			assert_true(line[col] != ' ' && line[col] != '\n');
		line = strchr(line, '\n') + 1;
	}
}

static void test_report_table(void **state)
{
	(void)state;
	char *s = render(REPORT_TABLE, results, NRESULTS);

	assert_true(strncmp(s,
	                    "edgelab probe: target 198.51.100.10, started "
	                    "2024-05-01T10:00:00Z, 7.250s\n",
	                    strlen("edgelab probe: target 198.51.100.10, started "
	                           "2024-05-01T10:00:00Z, 7.250s\n")) == 0);
	assert_has(s, "ROW  FLOW                      DIALECT  VERDICT    TIME    DETAIL\n");
	assert_has(s, "6    client -> edge STUN/UDP   rfc5389  PASS       0.012s  "
	              "mapped 192.0.2.10:40000\n");
	assert_has(s, "1    partner -> edge SIP/MTLS           BLOCKED    2.000s  "
	              "no answer in 2s\n");
	assert_has(s, "2    edge -> partner SIP/MTLS           PASS       0.000s\n");
	/* One line per result whatever the detail holds, and no raw controls. */
	assert_has(s, "FAILED     0.500s  say \"hi\" <b>&amp;\\nnext\\line\\there\\x01#x "
	              "\xc3\xa9 ?\n");
	assert_absent(s, "\x01");
	assert_aligned(s, "VERDICT");
	assert_aligned(s, "DIALECT");
	assert_aligned(s, "DETAIL");
	assert_ends_with(s, "\n\n2 passed, 1 blocked, 1 rejected, 1 failed\n");
	assert_absent(s, "\x1b"); /* no colours */
	free(s);
}

static void test_report_json(void **state)
{
	(void)state;
	char *s = render(REPORT_JSON, results, NRESULTS);

	assert_true(s[0] == '{');
	assert_has(s, "\"target\": \"198.51.100.10\"");
	assert_has(s, "\"started\": \"2024-05-01T10:00:00Z\"");
	assert_has(s, "\"seconds\": 7.250000");
	assert_has(s, "{\"row\": 6, \"flow\": \"client -> edge STUN/UDP\", \"dialect\": "
	              "\"rfc5389\", \"verdict\": \"PASS\", \"detail\": \"mapped "
	              "192.0.2.10:40000\", \"seconds\": 0.012000, \"start\": 0.001000, "
	              "\"end\": 0.013000}");
	assert_has(s, "\"dialect\": \"msturn\", \"verdict\": \"FAILED\", \"detail\": \"say "
	              "\\\"hi\\\" <b>&amp;\\nnext\\\\line\\there\\u0001#x \xc3\xa9 \\ufffd\"");
	assert_has(s, "{\"row\": 2, \"flow\": \"edge -> partner SIP/MTLS\", \"dialect\": \"\", "
	              "\"verdict\": \"PASS\", \"detail\": \"\", \"seconds\": 0.000000, "
	              "\"start\": 0.000000, \"end\": 0.000000}");
	assert_has(s, "\n  ],\n  \"closed\": [],\n  \"summary\": {\"passed\": 2, \"blocked\": 1, "
	              "\"rejected\": 1, \"failed\": 1, \"total\": 5, \"strict\": {\"closed\": 0, "
	              "\"exposed\": 0, \"failed\": 0, \"total\": 0}}\n}\n");
	assert_int_equal(count(s, "{\"row\": "), NRESULTS);
	assert_absent(s, "\x01");
	assert_absent(s, "\xff");
	free(s);
}

static void test_report_junit(void **state)
{
	(void)state;
	char *s = render(REPORT_JUNIT, results, NRESULTS);

	assert_true(strncmp(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) == 0);
	assert_has(s, "<testsuites name=\"edgelab probe\" tests=\"5\" failures=\"3\" errors=\"0\" "
	              "time=\"7.250\">\n");
	assert_has(s, "<testsuite name=\"edgelab probe 198.51.100.10\" tests=\"5\" "
	              "failures=\"3\" errors=\"0\" time=\"7.250\">\n");
	assert_has(s, "<property name=\"started\" value=\"2024-05-01T10:00:00Z\"/>");
	assert_has(s, "<testcase classname=\"edgelab.probe\" name=\"row 6 client -&gt; edge "
	              "STUN/UDP [rfc5389]\" time=\"0.012\"/>");
	assert_has(s, "name=\"row 1 partner -&gt; edge SIP/MTLS\" time=\"2.000\">\n"
	              "      <failure type=\"BLOCKED\" message=\"BLOCKED: no answer in 2s\">"
	              "no answer in 2s</failure>\n    </testcase>");
	assert_has(s, "<failure type=\"REJECTED\"");
	assert_has(s, "<testcase classname=\"edgelab.probe\" name=\"row 2 edge -&gt; partner "
	              "SIP/MTLS\" time=\"0.000\"/>\n");
	assert_has(s, "message=\"FAILED: say &quot;hi&quot; &lt;b&gt;&amp;amp;&#10;next\\line&#9;"
	              "here&#xFFFD;#x \xc3\xa9 &#xFFFD;\"");
	assert_int_equal(count(s, "<testcase "), NRESULTS);
	assert_int_equal(count(s, "<failure "), 3);
	assert_absent(s, "skipped");
	assert_has(s, "</testsuite>\n</testsuites>\n");
	assert_absent(s, "<b>");
	assert_absent(s, "\x01");
	assert_absent(s, "\xff");
	free(s);
}

static void test_report_tap(void **state)
{
	(void)state;
	char *s = render(REPORT_TAP, results, NRESULTS);

	assert_true(strncmp(s, "TAP version 13\n1..5\n", 20) == 0);
	assert_has(s, "\nok 1 - row 6 client -> edge STUN/UDP [rfc5389]\n");
	assert_has(s, "\nnot ok 2 - row 6 client -> edge STUN/UDP [msturn] # FAILED: say \"hi\" "
	              "<b>&amp;\\nnext\\\\line\\there\\x01\\#x \xc3\xa9 ?\n");
	assert_has(s, "\nnot ok 3 - row 1 partner -> edge SIP/MTLS # BLOCKED: no answer in 2s\n"
	              "  ---\n  verdict: BLOCKED\n  detail: \"no answer in 2s\"\n"
	              "  seconds: 2.000000\n  start: 0.002000\n  end: 2.002000\n  ...\n");
	assert_has(s, "\nnot ok 4 - row 3 client -> edge SIP/TLS # REJECTED: connection refused "
	              "(RST)\n");
	assert_has(s, "\nok 5 - row 2 edge -> partner SIP/MTLS\n");
	assert_ends_with(s, "\n# 2 passed, 1 blocked, 1 rejected, 1 failed\n");
	assert_absent(s, "SKIP");
	assert_int_equal(count(s, "\nok "), 2);
	assert_int_equal(count(s, "\nnot ok "), 3);
	free(s);
}

/* Fixed arrays filled to the brim without a NUL: read no further. */
static void test_report_unterminated(void **state)
{
	(void)state;
	struct probe_result r = {
	    4, "edge -> client RTP/TCP", "", VERDICT_FAILED, "", 1.0, 0, 1.0, "", "", ""};
	memset(r.dialect, 'd', sizeof(r.dialect));
	memset(r.detail, 'x', sizeof(r.detail));
	for (int f = REPORT_TABLE; f <= REPORT_TAP; f++) {
		char *s = render((enum report_format)f, &r, 1);
		assert_int_equal(count(s, "dddddddddddddddd"), 1);
		assert_absent(s, "ddddddddddddddddd");
		assert_non_null(
		    strstr(s, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
		free(s);
	}
	/* The page shows the dialect in two ids, the arrow's label and title
	 * and the table: each time the sixteen bytes, never more. */
	char *s = render(REPORT_HTML, &r, 1);
	assert_int_equal(count(s, "dddddddddddddddd"), 5);
	assert_absent(s, "ddddddddddddddddd");
	assert_non_null(strstr(s, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
	free(s);
}

static void test_report_empty(void **state)
{
	(void)state;
	char *s = render(REPORT_JSON, NULL, 0);
	assert_has(s, "\"results\": [],\n  \"closed\": [],\n");
	free(s);
	s = render(REPORT_TAP, NULL, 0);
	assert_has(s, "1..0\n");
	free(s);
	s = render(REPORT_JUNIT, NULL, 0);
	assert_has(s, "tests=\"0\" failures=\"0\"");
	free(s);
	s = render(REPORT_TABLE, NULL, 0);
	assert_ends_with(s, "\n\n0 passed, 0 blocked, 0 rejected, 0 failed\n");
	free(s);
	s = render(REPORT_HTML, NULL, 0);
	assert_has(s, ">no results</text>");
	assert_has(s, "<tbody>\n</tbody>");
	assert_absent(s, "<g class=\"flow");
	assert_absent(s, "must stay closed"); /* no strict mode, no band or table */
	assert_absent(s, "id=\"closed\"");
	assert_ends_with(s, "</html>\n");
	free(s);
}

/* The strict mode's negative flows (row 0) come apart from the rows, in
 * every format; CLOSED is good, EXPOSED (and FAILED) bad. */
static const struct probe_result mixed[] = {
    {4, "edge -> client RTP/TCP", "", VERDICT_PASS, "3 RTP packets", 0.004, 0.010, 0.014, "", "",
     ""},
    {0, "client -> edge TCP/5060", "", VERDICT_CLOSED, "TCP RST from 198.51.100.10:5060", 0.001,
     0.011, 0.012, "", "", ""},
    {0, "client -> edge UDP/3479", "", VERDICT_EXPOSED, "the canary on 198.51.100.10:3479 saw it",
     2.0, 0.012, 2.012, "", "", ""},
    {0, "edge -> client TCP/5060", "", VERDICT_FAILED, "the canary could not be asked", 0.1, 0.013,
     0.113, "", "", ""},
};
#define NMIXED (sizeof(mixed) / sizeof(mixed[0]))

static void test_report_strict(void **state)
{
	(void)state;
	assert_true(probe_result_ok(&mixed[0]));
	assert_true(probe_result_ok(&mixed[1]));
	assert_false(probe_result_ok(&mixed[2]));
	assert_false(probe_result_ok(&mixed[3]));

	char *s = render(REPORT_TABLE, mixed, NMIXED);
	assert_has(s,
	           "\n\n1 passed, 0 blocked, 0 rejected, 0 failed\n\n"
	           "MUST STAY CLOSED         VERDICT    TIME    DETAIL\n"
	           "client -> edge TCP/5060  CLOSED     0.001s  TCP RST from 198.51.100.10:5060\n"
	           "client -> edge UDP/3479  EXPOSED    2.000s  the canary on "
	           "198.51.100.10:3479 saw it\n");
	assert_ends_with(s, "\n\n1 closed, 1 exposed, 1 failed\n");
	assert_int_equal(count(s, "TCP/5060"), 2);
	free(s);

	s = render(REPORT_JSON, mixed, NMIXED);
	assert_int_equal(count(s, "{\"row\": "), 1);
	assert_has(s, "\"closed\": [\n    {\"flow\": \"client -> edge TCP/5060\", \"verdict\": "
	              "\"CLOSED\", \"detail\": \"TCP RST from 198.51.100.10:5060\", \"seconds\": "
	              "0.001000, \"start\": 0.011000, \"end\": 0.012000},\n");
	assert_has(s, "\"verdict\": \"EXPOSED\"");
	assert_has(s, "\"total\": 1, \"strict\": {\"closed\": 1, \"exposed\": 1, \"failed\": 1, "
	              "\"total\": 3}}");
	free(s);

	s = render(REPORT_JUNIT, mixed, NMIXED);
	assert_has(s, "<testsuites name=\"edgelab probe\" tests=\"4\" failures=\"2\"");
	assert_has(s, "<testsuite name=\"edgelab probe 198.51.100.10 must stay closed\" "
	              "tests=\"3\" failures=\"2\"");
	assert_has(s, "name=\"must stay closed: client -&gt; edge TCP/5060\" time=\"0.001\"/>");
	assert_has(s, "<failure type=\"EXPOSED\"");
	free(s);

	s = render(REPORT_TAP, mixed, NMIXED);
	assert_has(s, "\nok 1 - row 4 edge -> client RTP/TCP\n"
	              "ok 2 - must stay closed: client -> edge TCP/5060\n"
	              "not ok 3 - must stay closed: client -> edge UDP/3479 # EXPOSED: ");
	assert_has(s, "  start: 0.012000\n  end: 2.012000\n");
	assert_ends_with(s, "\n# 1 passed, 0 blocked, 0 rejected, 0 failed\n"
	                    "# 1 closed, 1 exposed, 1 failed\n");
	free(s);
}

/* Every verdict, a row in two dialects, both directions, negative flows
 * both ways, and a detail made to break out of the page. */
#define HTML_HOSTILE "<script>alert(1)</script>\"&' \xff\xc0 <b>"
static const struct probe_result every[] = {
    {1, "partner -> edge SIP/MTLS", "", VERDICT_PASS, "200 to OPTIONS", 0.063, 0.0, 0.063, "", "",
     ""},
    {2, "edge -> partner SIP/MTLS", "", VERDICT_BLOCKED, "no connection", 3.0, 0.0, 3.0, "", "",
     ""},
    {3, "client -> edge SIP/TLS", "", VERDICT_REJECTED, HTML_HOSTILE, 0.002, 0.0, 0.002, "", "",
     ""},
    {6, "client -> edge STUN/UDP", "rfc5389", VERDICT_FAILED, "wrong mapped address", 0.01, 0.0,
     0.01, "", "", ""},
    {6, "client -> edge STUN/UDP", "msturn", VERDICT_PASS, "mapped", 0.004, 0.0, 0.004, "", "", ""},
    {0, "client -> edge TCP/5060", "", VERDICT_CLOSED, "no answer", 3.0, 0.0, 3.0, "", "", ""},
    {0, "edge -> client TCP/5060", "", VERDICT_EXPOSED, "it arrived", 0.1, 0.0, 0.1, "", "", ""},
};
#define NEVERY (sizeof(every) / sizeof(every[0]))

/* The element that starts with open, up to its end tag (close), as a new
 * string; fails the test when it is not there. */
static char *element(const char *s, const char *open, const char *close)
{
	const char *p = strstr(s, open);
	if (!p)
		fail_msg("missing: %s\n--- in ---\n%s", open, s);
	const char *e = strstr(p, close);
	assert_non_null(e);
	return strndup(p, (size_t)(e - p) + strlen(close));
}

/* An arrow: its group, id and classes, its verdict in words, and its line
 * drawn left to right (inbound) or right to left. */
static void assert_arrow(const char *s, const char *id, const char *verdict, bool inbound)
{
	char open[160], badge[64], cls[16];
	int x1, y1, x2, y2;

	snprintf(cls, sizeof(cls), "%s", verdict);
	for (char *c = cls; *c; c++)
		*c = (char)(*c - 'A' + 'a');
	snprintf(open, sizeof(open),
	         "<g class=\"flow verdict-%s %s\" id=\"flow-%s\" data-verdict=\"%s\">", cls,
	         inbound ? "inbound" : "outbound", id, verdict);
	char *g = element(s, open, "</g>");
	snprintf(badge, sizeof(badge), ">%s</text>", verdict);
	assert_has(g, badge);
	const char *line = strstr(g, "<line ");
	assert_non_null(line);
	assert_int_equal(
	    sscanf(line, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"", &x1, &y1, &x2, &y2), 4);
	assert_int_equal(y1, y2);
	assert_true(inbound ? x1 < x2 : x1 > x2);
	free(g);
	snprintf(open, sizeof(open), "<tr class=\"verdict-%s\" id=\"row-%s\" data-verdict=\"%s\">",
	         cls, id, verdict);
	char *tr = element(s, open, "</tr>");
	snprintf(badge, sizeof(badge), "<span class=\"badge\">%s</span>", verdict);
	assert_has(tr, badge);
	free(tr);
	assert_int_equal(count(s, open), 1);
}

static void test_report_html(void **state)
{
	(void)state;
	char *s = render(REPORT_HTML, every, NEVERY);

	assert_true(strncmp(s, "<!DOCTYPE html>\n<html lang=\"en\">\n", 32) == 0);
	assert_has(s, "<meta charset=\"utf-8\">");
	assert_has(s, "<title>edgelab probe: 198.51.100.10: FAIL</title>");
	assert_has(s, "<h1>edgelab probe: 198.51.100.10</h1>\n<p class=\"meta\">started "
	              "2024-05-01T10:00:00Z, 7.250s</p>");
	assert_has(s, "id=\"overall\" data-verdict=\"FAIL\"><span class=\"badge\">FAIL</span>"
	              "<span class=\"summary\">2 passed, 1 blocked, 1 rejected, 1 failed</span>"
	              "<span class=\"summary\">1 closed, 1 exposed, 0 failed</span>");
	assert_arrow(s, "row1", "PASS", true);
	assert_arrow(s, "row2", "BLOCKED", false);
	assert_arrow(s, "row3", "REJECTED", true);
	assert_arrow(s, "row6-rfc5389", "FAILED", true);
	assert_arrow(s, "row6-msturn", "PASS", true);
	assert_arrow(s, "neg1", "CLOSED", true);
	assert_arrow(s, "neg2", "EXPOSED", false);
	assert_int_equal(count(s, "<g class=\"flow "), NEVERY);
	assert_int_equal(count(s, "<tr class=\"verdict-"), NEVERY);
	/* What the reader sees without colour: the label, the verdict. */
	assert_has(s, ">row 6 client -&gt; edge STUN/UDP 3478 [rfc5389]</text>");
	assert_has(s, ">row 1 partner -&gt; edge SIP/MTLS 5061</text>");
	assert_has(s, ">edge -&gt; client TCP/5060</text>");
	assert_has(s, ">must stay closed</text>");
	assert_has(s, "<h2>Must stay closed</h2>");
	/* The hostile detail, in the table and the arrow's title: text only. */
	assert_int_equal(count(s, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39; "
	                          "&#xFFFD;&#xFFFD; &lt;b&gt;"),
	                 2);
	assert_absent(s, "<script");
	assert_absent(s, "<b>");
	assert_absent(s, "\xff");
	assert_absent(s, "\xc0");
	/* Self-contained: nothing to fetch, nothing to run. */
	assert_absent(s, "http://");
	assert_absent(s, "https://");
	assert_absent(s, "src=");
	assert_absent(s, "href");
	assert_absent(s, "@import");
	assert_int_equal(count(s, "url("), count(s, "url(#"));
	assert_ends_with(s, "</main>\n</body>\n</html>\n");
	free(s);

	s = render(REPORT_HTML, &every[4], 1);
	assert_has(s, "<title>edgelab probe: 198.51.100.10: PASS</title>");
	assert_has(s, "id=\"overall\" data-verdict=\"PASS\">");
	free(s);
}

/* More results than a band draws, and a name longer than a label: the
 * diagram stays bounded, the tables have them all. */
static void test_report_html_bounds(void **state)
{
	(void)state;
	static char name[400];
	struct probe_result *many = calloc(100, sizeof(*many));
	assert_non_null(many);
	memset(name, 'n', sizeof(name) - 1);
	for (size_t i = 0; i < 100; i++) {
		many[i] = every[0];
		many[i].flow = i ? every[0].flow : name;
	}
	char *s = render(REPORT_HTML, many, 100);
	assert_int_equal(count(s, "<g class=\"flow "), 64);
	assert_has(s, ">36 more in the table below</text>");
	assert_int_equal(count(s, "<tr class=\"verdict-pass\""), 100);
	assert_has(s, "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	              "\xe2\x80\xa6 5061</text>");
	assert_int_equal(count(s, name), 2); /* the arrow's title, the table */
	free(s);
	free(many);
}

static void test_report_bad_args(void **state)
{
	(void)state;
	struct probe_result bad = results[0];
	FILE *f = fopen("/dev/null", "w");
	assert_non_null(f);
	assert_int_equal(report_write(NULL, REPORT_JSON, &meta, results, 1), EINVAL);
	assert_int_equal(report_write(f, REPORT_JSON, NULL, results, 1), EINVAL);
	assert_int_equal(report_write(f, REPORT_JSON, &meta, NULL, 1), EINVAL);
	assert_int_equal(report_write(f, (enum report_format)9, &meta, results, 1), EINVAL);
	bad.verdict = (enum probe_verdict)17;
	assert_int_equal(report_write(f, REPORT_TAP, &meta, &bad, 1), EINVAL);
	fclose(f);
}

static void test_report_write_error(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	assert_int_equal(report_write(f, REPORT_JUNIT, &meta, results, NRESULTS), ENOSPC);
	fclose(f);
}

/* path's content (caller frees), or NULL when there is no such file. */
static char *slurp(const char *path)
{
	char *buf = calloc(1, 65536);
	FILE *f = fopen(path, "r");
	assert_non_null(buf);
	if (!f) {
		free(buf);
		return NULL;
	}
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Whole or not at all: the report under its name and no .tmp; a failed
 * one leaves the file there as it was, and no .tmp either. */
static void test_report_write_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_report.XXXXXX", path[64], tmp[sizeof(path) + 4], *got, *want;
	struct probe_result bad = results[0];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	assert_int_equal(report_write_file(path, REPORT_JSON, &meta, results, NRESULTS), 0);
	want = render(REPORT_JSON, results, NRESULTS);
	got = slurp(path);
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_not_equal(access(tmp, F_OK), 0);
	free(got);

	bad.verdict = (enum probe_verdict)17;
	assert_int_equal(report_write_file(path, REPORT_JSON, &meta, &bad, 1), EINVAL);
	got = slurp(path);
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_not_equal(access(tmp, F_OK), 0);
	free(got);
	free(want);

	assert_int_equal(
	    report_write_file("/nonexistent/dir/r.xml", REPORT_JUNIT, &meta, results, NRESULTS),
	    ENOENT);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* The federation lab's results: site, rows and where it broke in every
 * text format; the table switches to its columns. */
static void test_report_federation(void **state)
{
	static const struct probe_result fed[] = {
	    {2, "edge A -> edge B SIP/MTLS", "", VERDICT_BLOCKED, "fw B dropped it", 3.0, 0.0, 3.0,
	     "a>b", "a2 b1", "fw-b"},
	    {2, "edge B -> edge A SIP/MTLS", "", VERDICT_PASS, "200 OK", 0.1, 3.0, 3.1, "b>a",
	     "b2 a1", ""},
	};
	(void)state;
	char *s = render(REPORT_JSON, fed, 2);
	assert_has(s, "{\"site\": \"a>b\", \"rows\": \"a2 b1\", \"at\": \"fw-b\", \"row\": 2, "
	              "\"flow\": \"edge A -> edge B SIP/MTLS\", \"verdict\": \"BLOCKED\"");
	free(s);
	s = render(REPORT_TAP, fed, 2);
	assert_has(s, "not ok 1 - site a>b (rows a2 b1) edge A -> edge B SIP/MTLS # BLOCKED");
	assert_has(s, "  site: \"a>b\"\n  at: \"fw-b\"\n");
	assert_has(s, "ok 2 - site b>a (rows b2 a1) edge B -> edge A SIP/MTLS\n");
	free(s);
	s = render(REPORT_JUNIT, fed, 2);
	assert_has(s, "<testcase classname=\"edgelab.probe.site.a&gt;b\" name=\"site a&gt;b (rows "
	              "a2 b1) edge A -&gt; edge B SIP/MTLS\"");
	free(s);
	s = render(REPORT_HTML, fed, 2);
	assert_has(s, "<svg class=\"diagram federation\"");
	assert_has(s, "<g class=\"flow verdict-blocked\" id=\"flow-fed1\" data-verdict=\"BLOCKED\" "
	              "data-site=\"a&gt;b\" data-at=\"fw-b\">");
	assert_has(s, "<g class=\"break\" id=\"break-fed1\" data-at=\"fw-b\">");
	assert_has(s, "id=\"flow-fed2\" data-verdict=\"PASS\"");
	assert_null(strstr(s, "break-fed2")); /* a flow that passed broke nowhere */
	assert_has(s, "<tr class=\"verdict-blocked\" id=\"row-fed1\"");
	free(s);
	s = render(REPORT_TABLE, fed, 2);
	assert_has(s, "SITE  ROWS   FLOW                       VERDICT    AT    TIME    DETAIL\n");
	assert_has(
	    s,
	    "a>b   a2 b1  edge A -> edge B SIP/MTLS  BLOCKED    fw-b  3.000s  fw B dropped it\n");
	free(s);
}

/* core/escape.c: an 8-bit CSI (U+009B, C2 9B in UTF-8) that a peer put in
 * a detail reaches no terminal raw; JSON keeps the character. */
static void test_report_c1_controls(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct out w = {f, 0};
	static const char detail[] = "a\xc2\x9b"
	                             "31mb\xc2\xa9";
	out_escaped(&w, detail, sizeof(detail) - 1, esc_text, "?");
	out_putc(&w, '|');
	out_json_str(&w, "\xc2\x9b", 2);
	assert_int_equal(out_finish(&w), 0);
	fclose(f);
	assert_string_equal(buf, "a\\u009b31mb\xc2\xa9|\"\xc2\x9b\"");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report_names),       cmocka_unit_test(test_report_table),
	    cmocka_unit_test(test_report_json),        cmocka_unit_test(test_report_junit),
	    cmocka_unit_test(test_report_tap),         cmocka_unit_test(test_report_unterminated),
	    cmocka_unit_test(test_report_empty),       cmocka_unit_test(test_report_bad_args),
	    cmocka_unit_test(test_report_write_error), cmocka_unit_test(test_report_strict),
	    cmocka_unit_test(test_report_html),        cmocka_unit_test(test_report_html_bounds),
	    cmocka_unit_test(test_report_write_file),  cmocka_unit_test(test_report_federation),
	    cmocka_unit_test(test_report_c1_controls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
