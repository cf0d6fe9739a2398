/* report_sample: writes the probe's report of a fixed, realistic run that
 * has every verdict, without a network or root: the lab's target, rows
 * 1-6 (5 and 6 in both dialects, as the probe runs them) and the strict
 * mode's ten negative flows (probe/strict.c's names). For the HTML
 * rendering test and the README's screenshot.
 *
 *   report_sample FORMAT [--hostile]
 *
 * --hostile: row 1's detail quotes markup, quotes and invalid UTF-8, as a
 * peer could make it. Exit status: 0 written, 1 write error, 2 usage. */
#include <stdio.h>
#include <string.h>

#include "probe/report.h"

#define HOSTILE                                                                                    \
	"edge answered OPTIONS with 403 <script>alert(1)</script>\"&' "                            \
	"<img src=x onerror=alert(2)> \xff\xfe"

static struct probe_result results[] = {
    {1, "partner -> edge SIP/MTLS", "", VERDICT_PASS,
     "200 to OPTIONS over MTLS; edge certificate sip.edge.example verified; we were "
     "partner.example",
     0.063, 0.001, 0.064, "", "", ""},
    {2, "edge -> partner SIP/MTLS", "", VERDICT_BLOCKED,
     "no connection from the edge to our 5061 in 3.0 s; the edge saw no answer: no SYN-ACK "
     "from 192.0.2.10:5061 in 3.0 s",
     4.012, 0.001, 4.013, "", "", ""},
    {3, "client -> edge SIP/TLS", "", VERDICT_REJECTED,
     "TCP RST: connection refused (connecting to 198.51.100.10:443)", 0.002, 0.001, 0.003, "", "",
     ""},
    {4, "edge -> client RTP/TCP", "", VERDICT_PASS,
     "the edge connected from 198.51.100.10:51420 (relay port range 50000-59999); 3 RTP "
     "packets framed per RFC 4571, SSRC 23590d3a, with our marker",
     0.052, 0.002, 0.054, "", "", ""},
    {5, "edge -> client STUN/UDP", "rfc5389", VERDICT_FAILED,
     "RFC 5389 Binding request from 198.51.100.10:40212: source port 40212 is outside the "
     "edge's 50000-59999",
     0.052, 0.002, 0.054, "", "", ""},
    {5, "edge -> client STUN/UDP", "msturn", VERDICT_PASS,
     "MS-TURN Binding request from 198.51.100.10:55496 (relay port range 50000-59999) with our "
     "marker; answered",
     0.055, 0.002, 0.057, "", "", ""},
    {6, "client -> edge STUN/UDP", "rfc5389", VERDICT_PASS,
     "mapped 192.0.2.10:38668, our own address; software edgelab", 0.009, 0.002, 0.011, "", "", ""},
    {6, "client -> edge STUN/UDP", "msturn", VERDICT_PASS,
     "mapped 192.0.2.10:32776, our own address; MS-TURN XOR-MAPPED-ADDRESS (0x8020)", 0.004, 0.002,
     0.006, "", "", ""},
    {0, "client -> edge TCP/5060", "", VERDICT_CLOSED, "no answer in 3.0 s from 198.51.100.10:5060",
     3.052, 0.003, 3.055, "", "", ""},
    {0, "client -> edge UDP/5060", "", VERDICT_CLOSED,
     "no hit at the canary on 198.51.100.10:5060 in 3.0 s; nothing came back", 3.055, 0.003, 3.058,
     "", "", ""},
    {0, "client -> edge TCP/5062", "", VERDICT_EXPOSED,
     "connected to 198.51.100.10:5062 and sent our marker; confirmed by the canary, hit from "
     "192.0.2.10:41830",
     0.012, 0.003, 0.015, "", "", ""},
    {0, "client -> edge TCP/80", "", VERDICT_CLOSED, "no answer in 3.0 s from 198.51.100.10:80",
     3.055, 0.003, 3.058, "", "", ""},
    {0, "client -> edge UDP/3479", "", VERDICT_EXPOSED,
     "the canary on 198.51.100.10:3479 saw our marker from 192.0.2.10:39114", 0.031, 0.003, 0.034,
     "", "", ""},
    {0, "client -> edge TCP/3478", "", VERDICT_CLOSED, "no answer in 3.0 s from 198.51.100.10:3478",
     3.050, 0.003, 3.053, "", "", ""},
    {0, "client -> edge TCP/59999", "", VERDICT_CLOSED,
     "no answer in 3.0 s from 198.51.100.10:59999", 3.051, 0.003, 3.054, "", "", ""},
    {0, "client -> edge UDP/59999", "", VERDICT_CLOSED,
     "no hit at the canary on 198.51.100.10:59999 in 3.0 s; nothing came back", 3.062, 0.003, 3.065,
     "", "", ""},
    {0, "edge -> client TCP/443 from port < 50000", "", VERDICT_CLOSED,
     "the edge's SYN to 192.0.2.10:443 got no answer: no SYN-ACK from 192.0.2.10:443 in 3.0 s",
     3.063, 0.004, 3.067, "", "", ""},
    {0, "edge -> client TCP/5060", "", VERDICT_FAILED,
     "the canary could not be asked: control API https://203.0.113.1:8443: 429 Too Many "
     "Requests",
     0.104, 0.004, 0.108, "", "", ""},
};

int main(int argc, char **argv)
{
	static const struct report_meta meta = {"198.51.100.10", "2026-12-06T16:29:32Z", 4.071};
	enum report_format fmt;

	if (argc < 2 || argc > 3 || report_format_parse(argv[1], &fmt) ||
	    (argc == 3 && strcmp(argv[2], "--hostile") != 0)) {
		fprintf(stderr, "usage: report_sample table|json|junit|tap|html [--hostile]\n");
		return 2;
	}
	if (argc == 3)
		snprintf(results[0].detail, sizeof(results[0].detail), "%s", HOSTILE);
	int rc = report_write(stdout, fmt, &meta, results, sizeof(results) / sizeof(results[0]));
	if (rc)
		fprintf(stderr, "report_sample: %s\n", strerror(rc));
	return rc ? 1 : 0;
}
