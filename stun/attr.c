/* Attribute names per dialect. The numbers are IANA's "STUN Attributes"
 * registry for RFC 5389/8489 and the specifications built on it, RFC 3489
 * section 11.2 for classic STUN, and [MS-TURN] section 2.2.2 (docs/msturn.md) for
 * Microsoft's dialect, whose numbers partly collide with the others. */
#include "stun/stun_int.h"

struct stun_attr_name {
	uint16_t type;
	const char *name;
};

static const struct stun_attr_name stun_names_rfc5389[] = {
    {STUN_ATTR_MAPPED_ADDRESS, "MAPPED-ADDRESS"},
    {STUN_ATTR_CHANGE_REQUEST, "CHANGE-REQUEST"}, /* RFC 5780 section 7.2 */
    {STUN_ATTR_USERNAME, "USERNAME"},
    {STUN_ATTR_MESSAGE_INTEGRITY, "MESSAGE-INTEGRITY"},
    {STUN_ATTR_ERROR_CODE, "ERROR-CODE"},
    {STUN_ATTR_UNKNOWN_ATTRIBUTES, "UNKNOWN-ATTRIBUTES"},
    {STUN_ATTR_CHANNEL_NUMBER, "CHANNEL-NUMBER"}, /* RFC 5766/8656 */
    {STUN_ATTR_LIFETIME, "LIFETIME"},
    {STUN_ATTR_XOR_PEER_ADDRESS, "XOR-PEER-ADDRESS"},
    {STUN_ATTR_DATA, "DATA"},
    {STUN_ATTR_REALM, "REALM"},
    {STUN_ATTR_NONCE, "NONCE"},
    {STUN_ATTR_XOR_RELAYED_ADDRESS, "XOR-RELAYED-ADDRESS"},
    {STUN_ATTR_REQUESTED_ADDRESS_FAMILY, "REQUESTED-ADDRESS-FAMILY"}, /* RFC 6156/8656 */
    {STUN_ATTR_EVEN_PORT, "EVEN-PORT"},
    {STUN_ATTR_REQUESTED_TRANSPORT, "REQUESTED-TRANSPORT"},
    {STUN_ATTR_DONT_FRAGMENT, "DONT-FRAGMENT"},
    {STUN_ATTR_MESSAGE_INTEGRITY_SHA256, "MESSAGE-INTEGRITY-SHA256"}, /* RFC 8489 */
    {STUN_ATTR_PASSWORD_ALGORITHM, "PASSWORD-ALGORITHM"},
    {STUN_ATTR_USERHASH, "USERHASH"},
    {STUN_ATTR_XOR_MAPPED_ADDRESS, "XOR-MAPPED-ADDRESS"},
    {STUN_ATTR_RESERVATION_TOKEN, "RESERVATION-TOKEN"},
    {STUN_ATTR_PRIORITY, "PRIORITY"}, /* RFC 8445 section 16.1 */
    {STUN_ATTR_USE_CANDIDATE, "USE-CANDIDATE"},
    {STUN_ATTR_PADDING, "PADDING"},                                     /* RFC 5780 section 7.6 */
    {STUN_ATTR_RESPONSE_PORT, "RESPONSE-PORT"},                         /* RFC 5780 section 7.5 */
    {STUN_ATTR_CONNECTION_ID, "CONNECTION-ID"},                         /* RFC 6062 section 6.2.1 */
    {STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, "ADDITIONAL-ADDRESS-FAMILY"}, /* RFC 8656 */
    {STUN_ATTR_ADDRESS_ERROR_CODE, "ADDRESS-ERROR-CODE"},
    {STUN_ATTR_PASSWORD_ALGORITHMS, "PASSWORD-ALGORITHMS"}, /* RFC 8489 */
    {STUN_ATTR_ALTERNATE_DOMAIN, "ALTERNATE-DOMAIN"},
    {STUN_ATTR_ICMP, "ICMP"}, /* RFC 8656 section 18.13 */
    {STUN_ATTR_SOFTWARE, "SOFTWARE"},
    {STUN_ATTR_ALTERNATE_SERVER, "ALTERNATE-SERVER"},
    {STUN_ATTR_FINGERPRINT, "FINGERPRINT"},
    {STUN_ATTR_ICE_CONTROLLED, "ICE-CONTROLLED"},
    {STUN_ATTR_ICE_CONTROLLING, "ICE-CONTROLLING"},
    {STUN_ATTR_RESPONSE_ORIGIN, "RESPONSE-ORIGIN"}, /* RFC 5780 section 7.3 */
    {STUN_ATTR_OTHER_ADDRESS, "OTHER-ADDRESS"},     /* RFC 5780 section 7.4 */
};

/* RFC 3489 section 11.2 defines these and nothing else. */
static const struct stun_attr_name stun_names_classic[] = {
    {STUN_ATTR_MAPPED_ADDRESS, "MAPPED-ADDRESS"},
    {STUN_ATTR_RESPONSE_ADDRESS, "RESPONSE-ADDRESS"},
    {STUN_ATTR_CHANGE_REQUEST, "CHANGE-REQUEST"},
    {STUN_ATTR_SOURCE_ADDRESS, "SOURCE-ADDRESS"},
    {STUN_ATTR_CHANGED_ADDRESS, "CHANGED-ADDRESS"},
    {STUN_ATTR_USERNAME, "USERNAME"},
    {STUN_ATTR_PASSWORD, "PASSWORD"},
    {STUN_ATTR_MESSAGE_INTEGRITY, "MESSAGE-INTEGRITY"},
    {STUN_ATTR_ERROR_CODE, "ERROR-CODE"},
    {STUN_ATTR_UNKNOWN_ATTRIBUTES, "UNKNOWN-ATTRIBUTES"},
    {STUN_ATTR_REFLECTED_FROM, "REFLECTED-FROM"},
};

static const struct stun_attr_name stun_names_msturn[] = {
    {STUN_MSATTR_MAPPED_ADDRESS, "MAPPED-ADDRESS"},
    {STUN_ATTR_USERNAME, "USERNAME"},
    {STUN_ATTR_MESSAGE_INTEGRITY, "MESSAGE-INTEGRITY"},
    {STUN_ATTR_ERROR_CODE, "ERROR-CODE"},
    {STUN_ATTR_UNKNOWN_ATTRIBUTES, "UNKNOWN-ATTRIBUTES"},
    {STUN_ATTR_LIFETIME, "LIFETIME"},
    {STUN_MSATTR_ALTERNATE_SERVER, "ALTERNATE-SERVER"},
    {STUN_MSATTR_MAGIC_COOKIE, "MAGIC-COOKIE"},
    {STUN_MSATTR_BANDWIDTH, "BANDWIDTH"},
    {STUN_MSATTR_DESTINATION_ADDRESS, "DESTINATION-ADDRESS"},
    {STUN_MSATTR_REMOTE_ADDRESS, "REMOTE-ADDRESS"},
    {STUN_MSATTR_DATA, "DATA"},
    {STUN_MSATTR_NONCE, "NONCE"},
    {STUN_MSATTR_REALM, "REALM"},
    {STUN_MSATTR_REQUESTED_ADDRESS_FAMILY, "REQUESTED-ADDRESS-FAMILY"},
    {STUN_MSATTR_MS_VERSION, "MS-VERSION"},
    {STUN_MSATTR_XOR_MAPPED_ADDRESS, "XOR-MAPPED-ADDRESS"},
    /* Not in docs/msturn.md's table, but sent by Microsoft's relays and clients
     * in vectors/msturn-teams.pcap; named as Wireshark names them. */
    {STUN_ATTR_SOFTWARE, "SOFTWARE"},
    {0x8037, "MS-APP-ID"},
    {STUN_MSATTR_MS_SEQUENCE_NUMBER, "MS-SEQUENCE-NUMBER"},
    {STUN_MSATTR_MS_SERVICE_QUALITY, "MS-SERVICE-QUALITY"},
    {STUN_MSATTR_MS_ALTERNATE_MAPPED_ADDRESS, "MS-ALTERNATE-MAPPED-ADDRESS"},
    {STUN_MSATTR_MULTIPLEXED_TURN_SESSION_ID, "MULTIPLEXED-TURN-SESSION-ID"},
};

#define STUN_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *stun_names_find(const struct stun_attr_name *tab, size_t n, uint16_t type)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tab[i].type == type)
			return tab[i].name;
	return NULL;
}

const char *stun_attr_name(enum stun_dialect d, uint16_t type)
{
	switch (d) {
	case STUN_DIALECT_RFC5389:
		return stun_names_find(stun_names_rfc5389, STUN_NELEM(stun_names_rfc5389), type);
	case STUN_DIALECT_CLASSIC:
		return stun_names_find(stun_names_classic, STUN_NELEM(stun_names_classic), type);
	case STUN_DIALECT_MSTURN:
		return stun_names_find(stun_names_msturn, STUN_NELEM(stun_names_msturn), type);
	}
	return NULL;
}

/* RFC 5389 section 15: 0x0000-0x7FFF are comprehension-required, an agent
 * that does not know one must reject the message (420, section 7.3.1). */
bool stun_attr_comprehension_required(uint16_t type)
{
	return type < 0x8000;
}
