/* The port table edgelab is built from (docs/port-table.md, from the Lync
 * Server 2013 "Port summary - Public instant messaging connectivity"). The
 * rules, the probe and the lab all walk this one table. */
#ifndef EDGELAB_CORE_ROWS_H
#define EDGELAB_CORE_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ROWS_COUNT          6
#define ROWS_RELAY_PORT_MIN 50000
#define ROWS_RELAY_PORT_MAX 59999

/* Rows 4 and 5: what the edge's flow carries so that the probe can tell it
 * from any other: this prefix and a marker of at most ROWS_MARKER_MAX
 * characters (row 4 in each RTP payload; row 5 in STUN's SOFTWARE in RFC
 * 5389, and in USERNAME in MS-TURN, which has no SOFTWARE attribute and
 * treats USERNAME as opaque bytes). */
#define ROWS_MARKER_PREFIX "edgelab marker="
#define ROWS_MARKER_MAX    64

/* A marker's characters: A-Z a-z 0-9 . _ ~ - (RFC 3986's unreserved ones,
 * so that a marker travels in a URL as it is). Inline: the parsers that use
 * it (the canaries', the probe's) are fuzzed on their own. */
static inline bool rows_marker_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '~' || c == '-';
}

/* Whether text is a whole marker: 1-ROWS_MARKER_MAX marker characters. */
static inline bool rows_marker_valid(const char *text)
{
	size_t n = strnlen(text, ROWS_MARKER_MAX + 1);
	if (n < 1 || n > ROWS_MARKER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!rows_marker_char((unsigned char)text[i]))
			return false;
	return true;
}

enum row_direction {
	ROW_INBOUND,  /* outside -> edge access interface */
	ROW_OUTBOUND, /* edge access interface -> outside */
};

enum row_transport { ROW_TCP, ROW_UDP };

struct row {
	int number;       /* 1..6, as in docs/port-table.md */
	const char *role; /* "Access/SIP(MTLS)/TCP/5061" as in the table */
	const char *flow; /* short description: "partner -> edge SIP/MTLS" */
	enum row_direction direction;
	enum row_transport transport;
	/* The destination port range; for row 4 the range is the edge's source
	 * port (Microsoft's later tables), see src_port_min. */
	uint16_t dst_port_min, dst_port_max;
	uint16_t src_port_min, src_port_max; /* 0, 0: any source port */
};

/* Row n (1..ROWS_COUNT), or NULL. */
const struct row *rows_get(int number);
/* Parses "all" or a comma list "1,3,6" into a bit mask (bit n = row n);
 * "built" is an old spelling of "all". Returns 0 or EINVAL. */
int rows_parse_mask(const char *s, unsigned *mask);

#endif
