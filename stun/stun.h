/* STUN codec for three dialects on one socket: RFC 5389/8489 (magic cookie),
 * classic RFC 3489 (no cookie) and Microsoft's MS-TURN (MAGIC-COOKIE attribute
 * first; see docs/msturn.md). Pure functions over byte buffers: no I/O,
 * no logging, no allocation. Every length is checked against the buffer.
 * The server, the probe, the unit tests and the fuzzers share it. */
#ifndef EDGELAB_STUN_STUN_H
#define EDGELAB_STUN_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HDR_LEN             20
#define STUN_TID_LEN             16 /* all 16 bytes after the length; RFC 5389's cookie included */
#define STUN_MAGIC_COOKIE        0x2112A442u
#define STUN_MSTURN_MAGIC_COOKIE 0x72C64BC6u
#define STUN_MAX_ATTRS           48   /* a message with more is rejected (E2BIG) */
#define STUN_MAX_MSG_LEN         2048 /* larger messages are rejected (EMSGSIZE) */

enum stun_dialect {
	STUN_DIALECT_RFC5389, /* RFC 5389/8489 and the TURN RFCs built on it */
	STUN_DIALECT_CLASSIC, /* RFC 3489 */
	STUN_DIALECT_MSTURN,  /* [MS-TURN] */
};
#define STUN_DIALECT_COUNT 3

enum stun_class {
	STUN_CLASS_REQUEST = 0,
	STUN_CLASS_INDICATION = 1,
	STUN_CLASS_SUCCESS = 2,
	STUN_CLASS_ERROR = 3,
};

/* Methods (RFC 5389, 5766, 6062; MS-TURN uses its own numbers below). */
enum {
	STUN_METHOD_BINDING = 0x001,
	STUN_METHOD_ALLOCATE = 0x003,
	STUN_METHOD_REFRESH = 0x004,
	STUN_METHOD_SEND = 0x006,
	STUN_METHOD_DATA = 0x007,
	STUN_METHOD_CREATE_PERMISSION = 0x008,
	STUN_METHOD_CHANNEL_BIND = 0x009,
	STUN_METHOD_CONNECT = 0x00A,
	STUN_METHOD_CONNECTION_BIND = 0x00B,
	STUN_METHOD_CONNECTION_ATTEMPT = 0x00C,
	/* MS-TURN: 0x0004 is Send (no response), 0x0006 Set Active Destination,
	 * 0x0115 the Data indication. */
	STUN_MSTURN_METHOD_SEND = 0x004,
	STUN_MSTURN_METHOD_SET_ACTIVE_DEST = 0x006,
};
#define STUN_MSTURN_TYPE_DATA_INDICATION 0x0115

/* Attribute numbers, RFC 5389/8489/3489/5766/6062/8656/5780/8445. */
enum {
	STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	STUN_ATTR_RESPONSE_ADDRESS = 0x0002, /* RFC 3489 */
	STUN_ATTR_CHANGE_REQUEST = 0x0003,   /* RFC 3489, 5780 */
	STUN_ATTR_SOURCE_ADDRESS = 0x0004,   /* RFC 3489 */
	STUN_ATTR_CHANGED_ADDRESS = 0x0005,  /* RFC 3489 */
	STUN_ATTR_USERNAME = 0x0006,
	STUN_ATTR_PASSWORD = 0x0007, /* RFC 3489 */
	STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	STUN_ATTR_ERROR_CODE = 0x0009,
	STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	STUN_ATTR_REFLECTED_FROM = 0x000B, /* RFC 3489 */
	STUN_ATTR_CHANNEL_NUMBER = 0x000C,
	STUN_ATTR_LIFETIME = 0x000D,
	STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
	STUN_ATTR_DATA = 0x0013,
	STUN_ATTR_REALM = 0x0014,
	STUN_ATTR_NONCE = 0x0015,
	STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
	STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
	STUN_ATTR_EVEN_PORT = 0x0018,
	STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
	STUN_ATTR_DONT_FRAGMENT = 0x001A,
	STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
	STUN_ATTR_USERHASH = 0x001E,
	STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	STUN_ATTR_RESERVATION_TOKEN = 0x0022,
	STUN_ATTR_PRIORITY = 0x0024,
	STUN_ATTR_USE_CANDIDATE = 0x0025,
	STUN_ATTR_PADDING = 0x0026,
	STUN_ATTR_RESPONSE_PORT = 0x0027,
	STUN_ATTR_CONNECTION_ID = 0x002A,
	STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
	STUN_ATTR_ADDRESS_ERROR_CODE = 0x8001,
	STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
	STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,
	STUN_ATTR_ICMP = 0x8004,
	STUN_ATTR_SOFTWARE = 0x8022,
	STUN_ATTR_ALTERNATE_SERVER = 0x8023,
	STUN_ATTR_FINGERPRINT = 0x8028,
	STUN_ATTR_ICE_CONTROLLED = 0x8029,
	STUN_ATTR_ICE_CONTROLLING = 0x802A,
	STUN_ATTR_RESPONSE_ORIGIN = 0x802B,
	STUN_ATTR_OTHER_ADDRESS = 0x802C,
};

/* MS-TURN attribute numbers where they differ from the above (docs/msturn.md). */
enum {
	STUN_MSATTR_MAPPED_ADDRESS = 0x0001, /* the relayed address in Allocate */
	STUN_MSATTR_ALTERNATE_SERVER = 0x000E,
	STUN_MSATTR_MAGIC_COOKIE = 0x000F,
	STUN_MSATTR_BANDWIDTH = 0x0010,
	STUN_MSATTR_DESTINATION_ADDRESS = 0x0011,
	STUN_MSATTR_REMOTE_ADDRESS = 0x0012,
	STUN_MSATTR_DATA = 0x0013,
	STUN_MSATTR_NONCE = 0x0014, /* swapped against RFC 5389 */
	STUN_MSATTR_REALM = 0x0015, /* swapped against RFC 5389 */
	STUN_MSATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
	STUN_MSATTR_MS_VERSION = 0x8008,
	STUN_MSATTR_XOR_MAPPED_ADDRESS = 0x8020,
	STUN_MSATTR_MS_SEQUENCE_NUMBER = 0x8050,
	STUN_MSATTR_MS_SERVICE_QUALITY = 0x8055,
	STUN_MSATTR_MS_ALTERNATE_MAPPED_ADDRESS = 0x8090,
	STUN_MSATTR_MULTIPLEXED_TURN_SESSION_ID = 0x8095,
};

struct stun_attr {
	uint16_t type;
	uint16_t len;       /* value length as on the wire (padding excluded) */
	const uint8_t *val; /* points into the decoded buffer */
	size_t off;         /* offset of the attribute header in the message */
};

/* A decoded message. It points into the caller's buffer, which must outlive it. */
struct stun_msg {
	enum stun_dialect dialect;
	uint16_t type;   /* the 14-bit message type */
	uint16_t method; /* 12 bits */
	enum stun_class cls;
	uint16_t length; /* header length field: bytes after the header */
	uint8_t tid[STUN_TID_LEN];
	const uint8_t *buf;
	size_t buf_len; /* STUN_HDR_LEN + length */
	size_t nattrs;
	struct stun_attr attrs[STUN_MAX_ATTRS];
};

uint16_t stun_type(uint16_t method, enum stun_class cls);
uint16_t stun_type_method(uint16_t type);
enum stun_class stun_type_class(uint16_t type);

/* The dialect of a datagram per docs/msturn.md: MS-TURN when the first attribute is
 * MAGIC-COOKIE, else RFC 5389 when the header has the cookie, else classic.
 * Needs len >= STUN_HDR_LEN; does not validate the rest. */
enum stun_dialect stun_dialect_detect(const uint8_t *buf, size_t len);
const char *stun_dialect_name(enum stun_dialect d); /* "rfc5389", "classic", "msturn" */

/* True when buf could start a STUN message (top two bits zero, length fits,
 * length a multiple of 4 unless MS-TURN). Cheap demultiplexing test. */
bool stun_is_message(const uint8_t *buf, size_t len);

/* Decodes one whole message of exactly len bytes (datagram) or its first
 * STUN_HDR_LEN + header length bytes (stream: see stun_msg_frame_len).
 * Returns 0, EBADMSG (malformed), EMSGSIZE (truncated or too large) or
 * E2BIG (too many attributes); EINVAL for NULL arguments. Never reads
 * outside buf. MS-TURN's Data indication (0x0115, which RFC 5389's class bits
 * would read as an error response) gets cls STUN_CLASS_INDICATION. */
int stun_msg_decode(struct stun_msg *msg, const uint8_t *buf, size_t len);

/* For streams: the total length of the message at buf once its header is in
 * (0 when fewer than STUN_HDR_LEN bytes are there). */
size_t stun_msg_frame_len(const uint8_t *buf, size_t len);

/* The first attribute of that type, or NULL. */
const struct stun_attr *stun_msg_attr(const struct stun_msg *msg, uint16_t type);

/* Typed attribute readers: 0, or EBADMSG when the value is malformed. */
int stun_attr_u32(const struct stun_attr *attr, uint32_t *val);
int stun_attr_addr(const struct stun_attr *attr, struct sockaddr_storage *sa);
/* XOR-MAPPED / XOR-PEER / XOR-RELAYED (RFC 5389 section 15.2), and MS-TURN's
 * 0x8020 (port XOR the first 16 bits of the transaction id, IPv4 XOR its
 * first 32 bits, IPv6 XOR all 16 bytes). */
int stun_attr_xor_addr(const struct stun_msg *msg, const struct stun_attr *attr,
                       struct sockaddr_storage *sa);
/* ERROR-CODE: class*100+number, and the reason phrase (not NUL-terminated). */
int stun_attr_error(const struct stun_attr *attr, int *code, const char **reason,
                    size_t *reason_len);

/* The attribute's name in that dialect ("XOR-MAPPED-ADDRESS"), or NULL when
 * the dialect does not define it. */
const char *stun_attr_name(enum stun_dialect d, uint16_t type);
/* Types below 0x8000 are comprehension-required (RFC 5389 section 15). */
bool stun_attr_comprehension_required(uint16_t type);

/* Integrity and fingerprint checks: 0 when valid, ENOENT when the attribute
 * is absent, EBADMSG when it is malformed or misplaced (anything but
 * FINGERPRINT, or MESSAGE-INTEGRITY-SHA256 after MESSAGE-INTEGRITY, following
 * it; FINGERPRINT not last), EACCES on mismatch. When a RFC 5389 message has
 * both MESSAGE-INTEGRITY and -SHA256, both must hold.
 * RFC 5389: HMAC-SHA1 over the message up to MESSAGE-INTEGRITY with the
 * length field adjusted (section 15.4), MESSAGE-INTEGRITY-SHA256 likewise.
 * Classic and MS-TURN: the header length as sent, the input zero-padded to a
 * multiple of 64 bytes; a 32-byte MS-TURN MESSAGE-INTEGRITY is HMAC-SHA256. */
int stun_msg_check_integrity(const struct stun_msg *msg, const uint8_t *key, size_t key_len);
int stun_msg_check_fingerprint(const struct stun_msg *msg);

/* Long-term credential key MD5(username ":" realm ":" password) (RFC 5389
 * section 15.4; also MS-TURN). */
void stun_key_longterm(const char *user, const char *realm, const char *pass, uint8_t key[16]);

/* Encoder. Errors are sticky: after the first failure every call is a no-op
 * and stun_enc_finish returns the error (ENOSPC when the buffer is too small,
 * EINVAL on a bad argument), so that a reply can be built without checks
 * after every line. cap is clamped to STUN_MAX_MSG_LEN, so that whatever is
 * encoded also decodes. */
struct stun_enc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	enum stun_dialect dialect;
	int err;
	uint8_t pad;   /* padding byte, 0 unless set by stun_enc_set_pad */
	uint8_t stage; /* private: which of integrity / fingerprint are written */
};

enum stun_mac { STUN_MAC_SHA1, STUN_MAC_SHA256 };

/* Writes the header; for MS-TURN also the MAGIC-COOKIE attribute, always first. */
void stun_enc_init(struct stun_enc *enc, uint8_t *buf, size_t cap, enum stun_dialect d,
                   uint16_t type, const uint8_t tid[STUN_TID_LEN]);
/* RFC 5389 section 15 lets padding bytes hold any value (RFC 5769's sample
 * request pads with spaces): the byte used for the attributes appended next. */
void stun_enc_set_pad(struct stun_enc *enc, uint8_t byte);
/* Appends an attribute: padded to 4 bytes in RFC 5389 and classic, unpadded in
 * MS-TURN. The header length is kept current. EINVAL once stun_enc_integrity
 * or stun_enc_fingerprint has run (RFC 5389 section 15.4). */
void stun_enc_attr(struct stun_enc *enc, uint16_t type, const void *val, size_t len);
void stun_enc_u32(struct stun_enc *enc, uint16_t type, uint32_t val);
void stun_enc_addr(struct stun_enc *enc, uint16_t type, const struct sockaddr *sa);
void stun_enc_xor_addr(struct stun_enc *enc, uint16_t type, const struct sockaddr *sa);
/* code 300-699, reason NUL-terminated or NULL (EINVAL otherwise). */
void stun_enc_error(struct stun_enc *enc, int code, const char *reason);
/* 1..STUN_MAX_ATTRS types; classic repeats the last one when n is odd
 * (RFC 3489 section 11.2.10). */
void stun_enc_unknown(struct stun_enc *enc, const uint16_t *types, size_t n);
/* MESSAGE-INTEGRITY (or -SHA256 in RFC 5389 with STUN_MAC_SHA256), computed
 * the dialect's way; must come after every other attribute but FINGERPRINT. */
void stun_enc_integrity(struct stun_enc *enc, const uint8_t *key, size_t key_len,
                        enum stun_mac mac);
/* FINGERPRINT: CRC-32 (zlib) XOR 0x5354554E; last. Not in MS-TURN, and not
 * after MESSAGE-INTEGRITY in classic (whose MAC covers the header length as
 * sent): EINVAL there. */
void stun_enc_fingerprint(struct stun_enc *enc);
/* 0 and the message length, or the sticky error. */
int stun_enc_finish(struct stun_enc *enc, size_t *len);

#endif
