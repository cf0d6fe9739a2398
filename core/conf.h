/* The configuration: `key value` lines (the re_conf format of the baresip
 * family), '#' starts a comment. Every key, with its default, is documented
 * in conf/edgelab.conf and described by the table in conf_keys.c.
 *
 * A loaded conf is immutable and reference-counted: SIGHUP parses a new one
 * and swaps it in only when it is whole and valid, while workers still
 * holding the old one drop their reference when they switch. */
#ifndef EDGELAB_CORE_CONF_H
#define EDGELAB_CORE_CONF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "core/log.h"

#define CONF_ERR_MAX      256
#define CONF_SOFTWARE_MAX 32 /* bounded: SOFTWARE goes into unauthenticated replies */

#define CONF_NAME_MAX            253 /* a DNS name */
#define CONF_PATH_MAX            256
#define CONF_PARTNERS_MAX        32
#define CONF_USERS_MAX           64
#define CONF_SECRET_MAX          64
#define CONF_PEER_RULES_MAX      64
#define CONF_CIDR_MAX            50 /* "ffff:...:ffff/128" and a NUL fit */
#define CONF_CONTROL_CLIENTS_MAX 16
#define CONF_PORTS_MAX           16 /* a port list key's ports (canary_tcp, canary_udp) */

/* federation_partner DOMAIN [HOST[:PORT]]: a federation partner; HOST is
 * its edge (name or address; port 5061 by default), resolved by SRV when
 * absent. */
struct conf_partner {
	char domain[CONF_NAME_MAX + 1];
	char host[CONF_NAME_MAX + 1]; /* "" when none */
	uint16_t port;
};

/* sip_user USER PASSWORD: a registrar account; with any, REGISTER needs
 * Digest authentication. */
struct conf_user {
	char name[CONF_SECRET_MAX + 1];
	char password[CONF_SECRET_MAX + 1];
};

/* A list of ports on one line (canary_tcp 80 5060): distinct, in the
 * order given. */
struct conf_ports {
	size_t n;
	uint16_t port[CONF_PORTS_MAX];
};

/* peer_allow / peer_deny CIDR: the TURN relay's peer policy rules. */
struct conf_peer_rule {
	bool allow;
	char cidr[CONF_CIDR_MAX];
};

struct conf {
	atomic_int refs;
	char source[256]; /* the file it came from, or "(defaults)" */

	enum log_level log_level;
	bool log_json;
	unsigned workers; /* 0: one per online CPU */

	bool stun_udp_enabled;
	struct sockaddr_storage stun_udp_listen;
	bool stun_tcp_enabled;
	struct sockaddr_storage stun_tcp_listen;
	/* MS-TURN's pseudo-TLS on the A/V edge's TCP 443: its own address, as
	 * 443 on the access address is SIP. */
	bool msturn_tls_enabled;
	struct sockaddr_storage msturn_tls_listen;
	unsigned stun_tcp_max_connections;
	unsigned stun_tcp_idle_timeout; /* seconds */
	/* Seconds for the first whole message (on pseudo-TLS: for the hello,
	 * then again for the first message); less under pressure
	 * (core/evict.h). */
	unsigned stun_tcp_first_request_timeout;
	char software[CONF_SOFTWARE_MAX + 1];

	char control_socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
	/* The control API over HTTPS (docs/control-api.md): off unless set;
	 * then conf_check wants credentials configured. */
	bool control_listen_enabled;
	struct sockaddr_storage control_listen;
	size_t n_control_clients; /* DNS SANs of client certificates let in */
	char control_clients[CONF_CONTROL_CLIENTS_MAX][CONF_NAME_MAX + 1];
	char control_token_file[CONF_PATH_MAX]; /* "" when off */
	unsigned control_max_connections;       /* HTTPS connections at once */
	unsigned control_trigger_rate;          /* triggers per second per client; burst 2x */

	/* Access Edge SIP (rows 1-3). */
	char sip_domain[CONF_NAME_MAX + 1];
	char edge_fqdn[CONF_NAME_MAX + 1];
	bool sip_tls_enabled; /* 443: server certificate only */
	struct sockaddr_storage sip_tls_listen;
	bool sip_mtls_enabled; /* 5061: mutual TLS with federation partners */
	struct sockaddr_storage sip_mtls_listen;
	char tls_certificate[CONF_PATH_MAX];
	char tls_key[CONF_PATH_MAX];
	char tls_ca[CONF_PATH_MAX];            /* controllers' CA (and partners' by default) */
	char tls_federation_ca[CONF_PATH_MAX]; /* partners' CA; "" (auto): tls_ca */
	bool tls_generate;                     /* a lab PKI at start when the three are missing */
	unsigned sip_handshake_timeout;        /* seconds (less under pressure: core/evict.h) */
	unsigned sip_first_request_timeout;    /* seconds after the handshake (the same) */
	unsigned sip_idle_timeout;             /* seconds */
	unsigned sip_max_connections;          /* in total */
	unsigned sip_max_connections_source;   /* per source address */
	unsigned sip_partner_keepalive;        /* seconds between OPTIONS to partners; 0 off */
	bool next_hop_set;            /* sip_next_hop: where the edge sends what it cannot route */
	struct conf_partner next_hop; /* its domain field is unused */
	bool dns_server_set;
	struct sockaddr_storage dns_server; /* for partners' SRV records; unset: the system's */
	size_t n_users;
	struct conf_user users[CONF_USERS_MAX];
	size_t n_partners;
	struct conf_partner partners[CONF_PARTNERS_MAX];

	/* A/V Edge TURN relay (rows 4, 5), on the STUN listeners. */
	char turn_realm[CONF_NAME_MAX + 1];
	size_t n_turn_users;
	struct conf_user turn_users[CONF_USERS_MAX];
	bool use_auth_secret; /* coturn's REST API: password = base64(HMAC-SHA1(secret, user)) */
	char static_auth_secret[CONF_SECRET_MAX + 1];
	/* MRAS-style credentials (core/mras.h): issued over SIP SERVICE, taken
	 * by the relay in both dialects; off when the secret is empty. */
	char mras_secret[CONF_SECRET_MAX + 1];
	unsigned mras_duration;                  /* minutes */
	uint16_t relay_port_min, relay_port_max; /* relay_ports */
	bool relay_address_set;                  /* unset: the address the Allocate arrived on */
	struct sockaddr_storage relay_address;
	bool relay_address6_set;
	struct sockaddr_storage relay_address6;
	bool allow_loopback_peers;
	bool relay_udp_offload; /* UDP GSO runs out, GRO runs in (relay/udp_send.h) */
	size_t n_peer_rules;
	struct conf_peer_rule peer_rules[CONF_PEER_RULES_MAX];
	unsigned turn_user_quota;     /* allocations per user; 0 = no limit */
	unsigned turn_total_quota;    /* allocations in total; 0 = as many as relay ports */
	unsigned turn_max_bps;        /* bytes/s relayed per allocation, each way; 0 = no cap */
	unsigned turn_lifetime;       /* seconds: the default, and the least granted */
	unsigned turn_max_lifetime;   /* seconds */
	unsigned turn_401_rate;       /* 401 replies per second per source IP; 0 = no limit */
	unsigned turn_nonce_lifetime; /* seconds; then 438 Stale Nonce */

	/* The strict mode's canaries (canary/canary.h): listeners on ports the
	 * port table does not open; none by default. */
	struct conf_ports canary_tcp, canary_udp;
	bool canary_address_set; /* unset: stun_udp_listen's address, else 0.0.0.0 */
	struct sockaddr_storage canary_address;
};

/* Whether name is a syntactically valid DNS name (letters, digits, '-',
 * dots between labels, at most CONF_NAME_MAX). */
bool conf_dns_name_valid(const char *name);

/* A conf with every default. 0 or ENOMEM. */
int conf_defaults(struct conf **confp);
/* Parses a whole file / buffer. On error returns EINVAL (or the errno of the
 * read) and writes "FILE:LINE: what is wrong" into err. */
int conf_load_file(const char *path, struct conf **confp, char *err, size_t err_len);
int conf_load_buf(const char *buf, size_t len, const char *name, struct conf **confp, char *err,
                  size_t err_len);
/* Sets one key from a command-line flag; 0, or EINVAL with err filled. */
int conf_set(struct conf *conf, const char *key, const char *value, char *err, size_t err_len);
/* The directory of tls_certificate when the three tls_ files are DIR/edge.pem,
 * DIR/edge.key and DIR/ca.pem (the auto layout, what tls_generate writes):
 * 0, else EINVAL. */
int conf_pki_dir(const struct conf *conf, char *dir, size_t len);

/* The CA file(s) federation partners' certificates must chain to:
 * tls_federation_ca, or tls_ca when that is auto. */
const char *conf_federation_ca(const struct conf *conf);

/* What no single key can say: keys that need each other (control_listen
 * needs control_client or control_token_file; tls_generate the auto
 * layout). For the whole conf, once the file and the flags are in; 0, or
 * EINVAL with a sentence in err. */
int conf_check(const struct conf *conf, char *err, size_t err_len);

struct conf *conf_ref(struct conf *conf);
void conf_unref(struct conf *conf);

/* The keys, for documentation, flags and tests. Per-key arrays (the
 * loader's bookkeeping, serve's option table) are sized from these bounds:
 * conf_keys.c asserts the number of keys at compile time, the flag table
 * refuses a longer name. */
#define CONF_KEYS_MAX     64
#define CONF_KEY_NAME_MAX 48 /* the NUL included */
struct conf_key_info {
	const char *name;
	const char *default_value;
	const char *help;
};
size_t conf_key_count(void);
const struct conf_key_info *conf_key_at(size_t i);

/* Writes the effective configuration as `key value` lines. */
void conf_dump(const struct conf *conf, FILE *out);

#endif
