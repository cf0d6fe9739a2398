/* See pcap_read.h. Every read is checked against the bytes that are there:
 * the captures are test input, and a broken one must fail, not crash. */
#include "tests/unit/pcap_read.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_EPB 0x00000006u

static uint16_t rd16be(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rd32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t rd32(const struct pcap_file *pf, const uint8_t *p)
{
	uint32_t v = rd32le(p);

	if (pf->swap)
		v = (v >> 24) | (v >> 8 & 0xFF00u) | (v << 8 & 0xFF0000u) | (v << 24);
	return v;
}

static uint16_t rd16(const struct pcap_file *pf, const uint8_t *p)
{
	return pf->swap ? rd16be(p) : (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static int pcap_load(struct pcap_file *pf, const char *path)
{
	FILE *f = fopen(path, "rb");
	long size;
	int err = 0;

	if (f == NULL)
		return errno != 0 ? errno : ENOENT;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    (unsigned long)size > PCAP_READ_MAX_FILE || fseek(f, 0, SEEK_SET) != 0) {
		err = EFBIG;
		goto out;
	}
	pf->buf = malloc(size > 0 ? (size_t)size : 1);
	if (pf->buf == NULL) {
		err = ENOMEM;
		goto out;
	}
	pf->len = fread(pf->buf, 1, (size_t)size, f);
	if (pf->len != (size_t)size)
		err = EIO;
out:
	fclose(f);
	return err;
}

static int pcap_header(struct pcap_file *pf)
{
	uint32_t magic;

	if (pf->len < 24)
		return EBADMSG;
	magic = rd32le(pf->buf);
	if (magic == PCAPNG_SHB) {
		pf->ng = true; /* byte order comes with the SHB, read as a block */
		return 0;
	}
	if (magic == 0xA1B2C3D4u || magic == 0xA1B23C4Du)
		pf->swap = false;
	else if (magic == 0xD4C3B2A1u || magic == 0x4D3CB2A1u)
		pf->swap = true;
	else
		return EBADMSG;
	pf->links[0] = rd32(pf, pf->buf + 20);
	pf->nlinks = 1;
	pf->off = 24;
	return 0;
}

int pcap_read_open(struct pcap_file *pf, const char *path)
{
	int err;

	if (pf == NULL || path == NULL)
		return EINVAL;
	memset(pf, 0, sizeof(*pf));
	err = pcap_load(pf, path);
	if (err == 0)
		err = pcap_header(pf);
	if (err != 0)
		pcap_read_close(pf);
	return err;
}

int pcap_read_open_vector(struct pcap_file *pf, const char *name, char *why, size_t why_len)
{
	const char *shared = getenv("SHARED");
	char path[4096];
	struct stat st;
	int err;

	if (pf == NULL || name == NULL || why == NULL || why_len == 0)
		return EINVAL;
	if (shared == NULL || *shared == '\0') {
		snprintf(why, why_len,
		         "SHARED is empty or not set (make check sets it to ../shared): "
		         "no capture vectors/%s",
		         name);
		return ENOENT;
	}
	if (stat(shared, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, why_len, "no shared directory %s (SHARED): no capture vectors/%s",
		         shared, name);
		return ENOENT;
	}
	snprintf(path, sizeof(path), "%s/vectors/%s", shared, name);
	if (stat(path, &st) != 0 && errno == ENOENT) {
		snprintf(why, why_len, "no capture %s", path);
		return ENOENT;
	}
	err = pcap_read_open(pf, path);
	if (err != 0) {
		snprintf(why, why_len, "cannot read %s: %s", path, strerror(err));
		return err == ENOENT ? EIO : err; /* it was there a moment ago */
	}
	return 0;
}

void pcap_read_close(struct pcap_file *pf)
{
	if (pf == NULL)
		return;
	free(pf->buf);
	memset(pf, 0, sizeof(*pf));
}

/* UDP inside IPv4 or IPv6 at p: 0 and the payload, or ENOENT (not UDP). */
static int pcap_ip_udp(const uint8_t *p, size_t n, struct pcap_udp *udp)
{
	size_t hlen, plen, ulen;
	uint8_t proto;

	if (n >= 20 && p[0] >> 4 == 4) {
		hlen = (size_t)(p[0] & 0x0F) * 4;
		plen = rd16be(p + 2);
		if (hlen < 20 || plen < hlen || plen > n || (rd16be(p + 6) & 0x3FFF) != 0)
			return ENOENT; /* broken, or a fragment */
		proto = p[9];
	} else if (n >= 40 && p[0] >> 4 == 6) {
		hlen = 40;
		plen = 40 + (size_t)rd16be(p + 4);
		proto = p[6];
		if (plen > n)
			return ENOENT;
		/* hop-by-hop, routing and destination options headers */
		while ((proto == 0 || proto == 43 || proto == 60) && plen - hlen >= 8) {
			size_t ext = ((size_t)p[hlen + 1] + 1) * 8;

			if (ext > plen - hlen)
				return ENOENT;
			proto = p[hlen];
			hlen += ext;
		}
	} else {
		return ENOENT;
	}
	if (proto != 17 || plen - hlen < 8)
		return ENOENT;
	ulen = rd16be(p + hlen + 4);
	if (ulen < 8 || ulen > plen - hlen)
		return ENOENT;
	udp->sport = rd16be(p + hlen);
	udp->dport = rd16be(p + hlen + 2);
	udp->data = p + hlen + 8;
	udp->len = ulen - 8;
	return 0;
}

/* Strips the link layer: Ethernet (1), Linux SLL (113), SLL2 (276), raw (101). */
static int pcap_link_udp(uint32_t link, const uint8_t *p, size_t n, struct pcap_udp *udp)
{
	size_t off;
	uint16_t etype;
	int tags = 0;

	if (link == 101)
		return pcap_ip_udp(p, n, udp);
	if (link == 1) {
		if (n < 14)
			return ENOENT;
		off = 14;
		etype = rd16be(p + 12);
		while ((etype == 0x8100 || etype == 0x88A8) && tags++ < 2 && n - off >= 4) {
			etype = rd16be(p + off + 2);
			off += 4;
		}
	} else if (link == 113 && n >= 16) {
		off = 16;
		etype = rd16be(p + 14);
	} else if (link == 276 && n >= 20) {
		off = 20;
		etype = rd16be(p);
	} else {
		return ENOENT;
	}
	if (etype != 0x0800 && etype != 0x86DD)
		return ENOENT;
	return pcap_ip_udp(p + off, n - off, udp);
}

static int pcap_next_classic(struct pcap_file *pf, const uint8_t **pkt, size_t *n, uint32_t *link)
{
	size_t caplen;

	if (pf->off == pf->len)
		return ENOENT;
	if (pf->len - pf->off < 16)
		return EBADMSG;
	caplen = rd32(pf, pf->buf + pf->off + 8);
	if (caplen > pf->len - pf->off - 16)
		return EBADMSG;
	*pkt = pf->buf + pf->off + 16;
	*n = caplen;
	*link = pf->links[0];
	pf->off += 16 + caplen;
	return 0;
}

/* One pcapng block with body b of blen bytes: 0 with a packet, EAGAIN when
 * the block carries none, EBADMSG when it is broken. */
static int pcapng_block(struct pcap_file *pf, uint32_t type, const uint8_t *b, size_t blen,
                        const uint8_t **pkt, size_t *n, uint32_t *link)
{
	uint32_t iface;

	if (type == PCAPNG_IDB) {
		if (blen < 8)
			return EBADMSG;
		if (pf->nlinks < PCAP_READ_MAX_IFACES)
			pf->links[pf->nlinks++] = rd16(pf, b);
		return EAGAIN;
	}
	if (type == PCAPNG_EPB) {
		if (blen < 20)
			return EBADMSG;
		iface = rd32(pf, b);
		*n = rd32(pf, b + 12);
		if (iface >= pf->nlinks || *n > blen - 20)
			return EBADMSG;
		*pkt = b + 20;
		*link = pf->links[iface];
		return 0;
	}
	if (type == PCAPNG_SPB) {
		if (blen < 4 || pf->nlinks == 0)
			return EBADMSG;
		*n = rd32(pf, b);
		if (*n > blen - 4)
			*n = blen - 4;
		*pkt = b + 4;
		*link = pf->links[0];
		return 0;
	}
	return EAGAIN;
}

static int pcap_next_ng(struct pcap_file *pf, const uint8_t **pkt, size_t *n, uint32_t *link)
{
	for (;;) {
		const uint8_t *b = pf->buf + pf->off;
		uint32_t type, total;
		int err;

		if (pf->off == pf->len)
			return ENOENT;
		if (pf->len - pf->off < 12)
			return EBADMSG;
		type = rd32le(b);
		if (type == PCAPNG_SHB) { /* a new section may switch byte order */
			uint32_t bom = rd32le(b + 8);

			if (bom != 0x1A2B3C4Du && bom != 0x4D3C2B1Au)
				return EBADMSG;
			pf->swap = bom != 0x1A2B3C4Du;
			pf->nlinks = 0;
		} else {
			type = rd32(pf, b);
		}
		total = rd32(pf, b + 4);
		if (total < 12 || total % 4 != 0 || total > pf->len - pf->off)
			return EBADMSG;
		pf->off += total;
		if (type == PCAPNG_SHB)
			continue;
		err = pcapng_block(pf, type, b + 8, total - 12, pkt, n, link);
		if (err != EAGAIN)
			return err;
	}
}

int pcap_read_next(struct pcap_file *pf, struct pcap_udp *udp)
{
	const uint8_t *pkt;
	uint32_t link;
	size_t n;
	int err;

	if (pf == NULL || udp == NULL || pf->buf == NULL)
		return EINVAL;
	for (;;) {
		err = pf->ng ? pcap_next_ng(pf, &pkt, &n, &link)
		             : pcap_next_classic(pf, &pkt, &n, &link);
		if (err != 0)
			return err;
		pf->frame++;
		if (pcap_link_udp(link, pkt, n, udp) == 0) {
			udp->frame = pf->frame;
			return 0;
		}
	}
}
