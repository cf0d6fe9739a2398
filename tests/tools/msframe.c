/* msframe: checks the MS-TURN TCP framing of one direction of a captured
 * stream and hands its control messages to tshark, which (Wireshark 4.0)
 * does not take MS-TURN's framing apart itself. Written apart from edgelab's
 * own parser (stun/msturn_frame.c), so that the check does not share its
 * bugs.
 *
 *   tshark -q -z follow,tcp,raw,N ... | msframe [--tls] > dump
 *   text2pcap -u 3478,40000 dump out.pcap
 *
 * Input: hex text (what tshark's "follow,tcp,raw" prints, whitespace
 * ignored) of what the server sent. --tls: it starts with the pseudo-TLS
 * ServerHello + ServerHelloDone (docs/msturn.md), checked byte for byte but for
 * the random and the session id. Then frames: type 0x02 (control) or 0x03
 * (data), 0x00, a 16-bit length, the payload. Output: each control
 * message as a text2pcap packet; on stderr one line, "msframe: N control,
 * M data, tls yes|no". Exit 0 when the stream is whole frames, 1 when it is
 * not (the reason on stderr), 2 on bad usage. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STREAM (4 * 1024 * 1024)

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

static size_t read_hex(unsigned char *buf, size_t cap)
{
	size_t n = 0;
	int c, hi = -1;
	while ((c = getchar()) != EOF && n < cap) {
		if (!isxdigit(c))
			continue;
		if (hi < 0) {
			hi = hexval(c);
			continue;
		}
		buf[n++] = (unsigned char)(hi << 4 | hexval(c));
		hi = -1;
	}
	return n;
}

static int check_tls(const unsigned char *b, size_t len)
{
	static const unsigned char head[] = {0x16, 0x03, 0x01, 0x00, 0x4e, 0x02,
	                                     0x00, 0x00, 0x46, 0x03, 0x01};
	static const unsigned char tail[] = {0x00, 0x18, 0x00, 0x0e, 0x00, 0x00, 0x00};
	return len >= 83 && memcmp(b, head, sizeof(head)) == 0 && b[43] == 0x20 &&
	       memcmp(b + 76, tail, sizeof(tail)) == 0;
}

int main(int argc, char **argv)
{
	int tls = argc == 2 && strcmp(argv[1], "--tls") == 0;
	if (argc > 2 || (argc == 2 && !tls)) {
		fprintf(stderr, "usage: msframe [--tls] < hex\n");
		return 2;
	}
	unsigned char *b = malloc(MAX_STREAM);
	if (!b)
		return 2;
	size_t len = read_hex(b, MAX_STREAM), at = 0;
	unsigned control = 0, data = 0;
	if (tls) {
		if (!check_tls(b, len)) {
			fprintf(stderr,
			        "msframe: the stream does not start with the pseudo-TLS answer\n");
			return 1;
		}
		at = 83;
	}
	while (at < len) {
		if (len - at < 4) {
			fprintf(stderr, "msframe: %zu stray bytes at offset %zu\n", len - at, at);
			return 1;
		}
		unsigned type = b[at], zero = b[at + 1];
		size_t n = (size_t)b[at + 2] << 8 | b[at + 3];
		if ((type != 2 && type != 3) || zero != 0 || n == 0 || len - at - 4 < n) {
			fprintf(stderr, "msframe: bad frame at offset %zu: %02x %02x, length %zu\n",
			        at, type, zero, n);
			return 1;
		}
		if (type == 2) {
			for (size_t i = 0; i < n; i++) {
				if (i % 16 == 0)
					printf(i ? "\n%06zx" : "%06zx", i);
				printf(" %02x", b[at + 4 + i]);
			}
			printf("\n");
			control++;
		} else {
			data++;
		}
		at += 4 + n;
	}
	fprintf(stderr, "msframe: %u control, %u data, tls %s\n", control, data,
	        tls ? "yes" : "no");
	free(b);
	return 0;
}
