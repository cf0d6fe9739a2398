/* A small bounds-checked reader of UDP datagrams in capture files, for the
 * codec tests: classic pcap (either byte order, micro- or nanosecond) and
 * pcapng (SHB/IDB/EPB/SPB), link types Ethernet (with VLAN tags), Linux
 * cooked (SLL and SLL2) and raw IP; IPv4 and IPv6 UDP, fragments skipped. */
#ifndef EDGELAB_TESTS_PCAP_READ_H
#define EDGELAB_TESTS_PCAP_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAP_READ_MAX_IFACES 16
#define PCAP_READ_MAX_FILE   (64u << 20) /* test vectors are small */

struct pcap_udp {
	const uint8_t *data; /* UDP payload, points into the file buffer */
	size_t len;
	uint16_t sport, dport;
	size_t frame; /* 1-based frame number, as tshark counts */
};

struct pcap_file {
	uint8_t *buf;
	size_t len;
	size_t off;
	bool ng;   /* pcapng */
	bool swap; /* file byte order differs from little-endian reading */
	uint32_t links[PCAP_READ_MAX_IFACES]; /* link type per interface */
	size_t nlinks;
	size_t frame;
};

/* 0, or an errno code (ENOENT missing file, EBADMSG not a capture). */
int pcap_read_open(struct pcap_file *pf, const char *path);
/* Opens NAME in $SHARED/vectors, the real captures in ../shared (make check
 * sets SHARED). 0; ENOENT when SHARED is unset or empty, or its directory
 * or the file is not there: what is missing is then in why, for the test's
 * skip message; another errno code, and why, for a file that is there and
 * cannot be read or is not a capture: that must fail. */
int pcap_read_open_vector(struct pcap_file *pf, const char *name, char *why, size_t why_len);
/* The next UDP datagram: 0, ENOENT at the end, EBADMSG on a broken file.
 * Frames that are not UDP over IPv4/IPv6 are skipped (still counted). */
int pcap_read_next(struct pcap_file *pf, struct pcap_udp *udp);
void pcap_read_close(struct pcap_file *pf);

#endif
