#include "core/rows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct row table[ROWS_COUNT] = {
    {1, "Access/SIP(MTLS)/TCP/5061", "partner -> edge SIP/MTLS", ROW_INBOUND, ROW_TCP, 5061, 5061,
     0, 0},
    {2, "Access/SIP(MTLS)/TCP/5061", "edge -> partner SIP/MTLS", ROW_OUTBOUND, ROW_TCP, 5061, 5061,
     0, 0},
    {3, "Access/SIP(TLS)/TCP/443", "client -> edge SIP/TLS", ROW_INBOUND, ROW_TCP, 443, 443, 0, 0},
    /* The edge originates from 50000-59999 towards the client's TCP port. */
    {4, "A/V/RTP/TCP/50000-59999", "edge -> client RTP/TCP", ROW_OUTBOUND, ROW_TCP, 1, 65535,
     ROWS_RELAY_PORT_MIN, ROWS_RELAY_PORT_MAX},
    /* The edge sends from a relay port too; the rule need not say so (the
     * probe checks it). */
    {5, "A/V/STUN,MSTURN/UDP/3478", "edge -> client STUN/UDP", ROW_OUTBOUND, ROW_UDP, 3478, 3478, 0,
     0},
    {6, "A/V/STUN,MSTURN/UDP/3478", "client -> edge STUN/UDP", ROW_INBOUND, ROW_UDP, 3478, 3478, 0,
     0},
};

const struct row *rows_get(int number)
{
	if (number < 1 || number > ROWS_COUNT)
		return NULL;
	return &table[number - 1];
}

int rows_parse_mask(const char *s, unsigned *mask)
{
	unsigned m = 0;
	/* "built" meant the rows this version had; every row is built now, and
	 * scripts that still ask for it get them all. */
	if (strcmp(s, "all") == 0 || strcmp(s, "built") == 0) {
		for (int n = 1; n <= ROWS_COUNT; n++)
			m |= 1u << n;
		*mask = m;
		return 0;
	}
	const char *p = s;
	while (*p) {
		char *end;
		long n = strtol(p, &end, 10);
		if (end == p || n < 1 || n > ROWS_COUNT || (*end && *end != ','))
			return EINVAL;
		m |= 1u << n;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return EINVAL;
	}
	if (!m)
		return EINVAL;
	*mask = m;
	return 0;
}
