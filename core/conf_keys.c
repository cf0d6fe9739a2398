/* The configuration keys: one table row per key, with its default, its
 * parser and its printer. Typed keys (numbers, listeners, names, paths) use
 * the generic parsers through the row's offset and bounds. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/conf_priv.h"
#include "core/policy.h"

#define FIELD(c, k, type)  ((type)((char *)(c) + (k)->offset))
#define CFIELD(c, k, type) ((const type)((const char *)(c) + (k)->offset))

bool conf_dns_name_valid(const char *name)
{
	size_t len = strlen(name), label = 0;
	if (len == 0 || len > CONF_NAME_MAX || name[0] == '.' || name[len - 1] == '.')
		return false;
	for (const char *p = name; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && !(*p == '-' && label > 0))
			return false;
		if (++label > 63)
			return false;
	}
	return name[len - 1] != '-';
}

static int p_bool(const struct conf_key *k, struct conf *c, const char *v)
{
	static const char *const yes[] = {"yes", "on", "true", "1"};
	static const char *const no[] = {"no", "off", "false", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
			*FIELD(c, k, bool *) = strcmp(v, yes[i]) == 0;
			return 0;
		}
	}
	return EINVAL;
}
static void f_bool(const struct conf_key *k, const struct conf *c, size_t i, char *o, size_t n)
{
	(void)i;
	snprintf(o, n, "%s", *CFIELD(c, k, bool *) ? "yes" : "no");
}

static int p_uint(const struct conf_key *k, struct conf *c, const char *v)
{
	char *end;
	if (!isdigit((unsigned char)*v))
		return EINVAL;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno || *end || n < k->min || n > k->max)
		return EINVAL;
	*FIELD(c, k, unsigned *) = (unsigned)n;
	return 0;
}
static void f_uint(const struct conf_key *k, const struct conf *c, size_t i, char *o, size_t n)
{
	(void)i;
	snprintf(o, n, "%u", *CFIELD(c, k, unsigned *));
}

/* A listener: "off", or ADDR[:PORT] with the default port in k->min. The
 * enabled flag is the bool just before the address in struct conf. */
static int p_listen(const struct conf_key *k, struct conf *c, const char *v)
{
	struct sockaddr_storage *sa = FIELD(c, k, struct sockaddr_storage *);
	bool *enabled = (bool *)((char *)c + k->max);
	if (strcmp(v, "off") == 0) {
		*enabled = false;
		return 0;
	}
	if (addr_parse(v, (uint16_t)k->min, sa))
		return EINVAL;
	*enabled = true;
	return 0;
}
static void f_listen(const struct conf_key *k, const struct conf *c, size_t i, char *o, size_t n)
{
	(void)i;
	if (!*(const bool *)((const char *)c + k->max))
		snprintf(o, n, "off");
	else
		addr_str(CFIELD(c, k, struct sockaddr *), o, n);
}

/* Text of at most k->max bytes; "off" (when k->min) clears it. */
static int p_text(const struct conf_key *k, struct conf *c, const char *v)
{
	if (k->min && strcmp(v, "off") == 0)
		v = "";
	if (strlen(v) > k->max)
		return EINVAL;
	snprintf(FIELD(c, k, char *), k->max + 1, "%s", v);
	return 0;
}
static void f_text(const struct conf_key *k, const struct conf *c, size_t i, char *o, size_t n)
{
	(void)i;
	const char *v = CFIELD(c, k, char *);
	snprintf(o, n, "%s", v[0] || !k->min ? v : "off");
}

static int p_dns_name(const struct conf_key *k, struct conf *c, const char *v)
{
	return conf_dns_name_valid(v) ? p_text(k, c, v) : EINVAL;
}

/* An absolute path, or "auto": DIR/FILE with DIR /etc/edgelab/pki. */
static int p_pki_path(const struct conf_key *k, struct conf *c, const char *v)
{
	static const char *const auto_files[] = {"edge.pem", "edge.key", "ca.pem"};
	char path[CONF_PATH_MAX];
	if (strcmp(v, "auto") == 0) {
		snprintf(path, sizeof(path), "/etc/edgelab/pki/%s", auto_files[k->min]);
		v = path;
	}
	if (v[0] != '/' || strlen(v) >= CONF_PATH_MAX)
		return EINVAL;
	snprintf(FIELD(c, k, char *), CONF_PATH_MAX, "%s", v);
	return 0;
}

static int p_log_level(const struct conf_key *k, struct conf *c, const char *v)
{
	(void)k;
	return log_level_parse(v, &c->log_level);
}
static void f_log_level(const struct conf_key *k, const struct conf *c, size_t i, char *o, size_t n)
{
	(void)k;
	(void)i;
	snprintf(o, n, "%s", log_level_name(c->log_level));
}

/* "auto": /run/edgelab/control.sock for root, else a per-user path, so that
 * an unprivileged `edgelab serve` starts with no config at all. */
static int p_control_socket(const struct conf_key *k, struct conf *c, const char *v)
{
	char path[PATH_MAX];
	(void)k;
	if (strcmp(v, "off") == 0) {
		c->control_socket[0] = '\0';
		return 0;
	}
	if (strcmp(v, "auto") == 0) {
		if (geteuid() == 0)
			snprintf(path, sizeof(path), "/run/edgelab/control.sock");
		else
			snprintf(path, sizeof(path), "/tmp/edgelab-%u/control.sock",
			         (unsigned)geteuid());
		v = path;
	}
	if (v[0] != '/' || strlen(v) >= sizeof(c->control_socket))
		return EINVAL;
	snprintf(c->control_socket, sizeof(c->control_socket), "%s", v);
	return 0;
}
static void f_control_socket(const struct conf_key *k, const struct conf *c, size_t i, char *o,
                             size_t n)
{
	(void)k;
	(void)i;
	snprintf(o, n, "%s", c->control_socket[0] ? c->control_socket : "off");
}

/* control_listen: a listener whose port must be given (there is no
 * well-known one to default to). */
static int p_listen_port(const struct conf_key *k, struct conf *c, const char *v)
{
	int rc = p_listen(k, c, v);
	bool enabled = *(bool *)((char *)c + k->max);
	return rc ? rc : enabled && !addr_port(FIELD(c, k, struct sockaddr *)) ? EINVAL : 0;
}

/* An absolute path, or the key's word for none, stored as "": "off", or
 * "auto" when k->max is 1 (what auto is, is the reader's:
 * conf_federation_ca). */
static const char *none_word(const struct conf_key *k)
{
	return k->max == 1 ? "auto" : "off";
}
static int p_path_or_none(const struct conf_key *k, struct conf *c, const char *v)
{
	if (strcmp(v, none_word(k)) == 0)
		v = "";
	else if (v[0] != '/' || strlen(v) >= CONF_PATH_MAX)
		return EINVAL;
	snprintf(FIELD(c, k, char *), CONF_PATH_MAX, "%s", v);
	return 0;
}
static void f_path_or_none(const struct conf_key *k, const struct conf *c, size_t i, char *o,
                           size_t n)
{
	(void)i;
	const char *v = CFIELD(c, k, char *);
	snprintf(o, n, "%s", v[0] ? v : none_word(k));
}

/* control_client NAME: each name once (case-insensitive, as certificates
 * are matched). */
static int p_control_client(const struct conf_key *k, struct conf *c, const char *v)
{
	(void)k;
	if (c->n_control_clients >= CONF_CONTROL_CLIENTS_MAX || !conf_dns_name_valid(v))
		return EINVAL;
	for (size_t i = 0; i < c->n_control_clients; i++)
		if (strcasecmp(c->control_clients[i], v) == 0)
			return EINVAL;
	snprintf(c->control_clients[c->n_control_clients++], CONF_NAME_MAX + 1, "%s", v);
	return 0;
}
static void f_control_client(const struct conf_key *k, const struct conf *c, size_t i, char *o,
                             size_t n)
{
	(void)k;
	snprintf(o, n, "%s", c->control_clients[i]);
}
static size_t n_control_clients(const struct conf *c)
{
	return c->n_control_clients;
}

/* Copies the next blank-separated token of *s (at most cap - 1 bytes) into
 * out and advances *s; EINVAL when it is longer. */
static int next_token(const char **s, char *out, size_t cap)
{
	const char *p = *s;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, " \t");
	if (n >= cap)
		return EINVAL;
	memcpy(out, p, n);
	out[n] = '\0';
	*s = p + n;
	return 0;
}

/* HOST:PORT, [v6]:PORT or a bare HOST / IPv6 address: leaves the host in
 * place, the port in *port when there is one. */
static int split_host_port(char *host, uint16_t *port)
{
	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (!close || (close[1] && close[1] != ':'))
			return EINVAL;
		if (close[1] == ':' && addr_port_parse(close + 2, false, port))
			return EINVAL;
		*close = '\0';
		memmove(host, host + 1, strlen(host + 1) + 1);
		return strchr(host, ':') ? 0 : EINVAL;
	}
	char *colon = strrchr(host, ':');
	if (colon && colon == strchr(host, ':')) { /* one colon: HOST:PORT, not IPv6 */
		*colon = '\0';
		return addr_port_parse(colon + 1, false, port);
	}
	return 0;
}

/* federation_partner DOMAIN [HOST[:PORT]] */
static int p_partner(const struct conf_key *k, struct conf *c, const char *v)
{
	char domain[CONF_NAME_MAX + 1], host[CONF_NAME_MAX + 8], rest[2];
	(void)k;
	if (c->n_partners >= CONF_PARTNERS_MAX || next_token(&v, domain, sizeof(domain)) ||
	    next_token(&v, host, sizeof(host)) || next_token(&v, rest, sizeof(rest)) || rest[0] ||
	    !conf_dns_name_valid(domain))
		return EINVAL;
	struct conf_partner *p = &c->partners[c->n_partners];
	memset(p, 0, sizeof(*p));
	p->port = 5061;
	if (split_host_port(host, &p->port))
		return EINVAL;
	struct sockaddr_storage sa;
	if (host[0] && !conf_dns_name_valid(host) && addr_parse(host, 0, &sa))
		return EINVAL;
	for (size_t i = 0; i < c->n_partners; i++)
		if (strcasecmp(c->partners[i].domain, domain) == 0)
			return EINVAL; /* one line per partner */
	if (strlen(host) > CONF_NAME_MAX)
		return EINVAL;
	memcpy(p->domain, domain, strlen(domain) + 1);
	memcpy(p->host, host, strlen(host) + 1);
	c->n_partners++;
	return 0;
}
static void f_partner(const struct conf_key *k, const struct conf *c, size_t i, char *o, size_t n)
{
	(void)k;
	const struct conf_partner *p = &c->partners[i];
	if (p->host[0] && strchr(p->host, ':'))
		snprintf(o, n, "%s [%s]:%u", p->domain, p->host, p->port);
	else if (p->host[0])
		snprintf(o, n, "%s %s:%u", p->domain, p->host, p->port);
	else
		snprintf(o, n, "%s", p->domain);
}
static size_t n_partners(const struct conf *c)
{
	return c->n_partners;
}

static int p_dns_server(const struct conf_key *k, struct conf *c, const char *v)
{
	(void)k;
	c->dns_server_set = strcmp(v, "system") != 0;
	return c->dns_server_set ? addr_parse(v, 53, &c->dns_server) : 0;
}
static void f_dns_server(const struct conf_key *k, const struct conf *c, size_t i, char *o,
                         size_t n)
{
	(void)k;
	(void)i;
	if (c->dns_server_set)
		addr_str((const struct sockaddr *)&c->dns_server, o, n);
	else
		snprintf(o, n, "system");
}

/* sip_next_hop HOST[:PORT] or off */
static int p_next_hop(const struct conf_key *k, struct conf *c, const char *v)
{
	char host[CONF_NAME_MAX + 8], rest[2];
	struct sockaddr_storage sa;
	(void)k;
	c->next_hop_set = false;
	if (strcmp(v, "off") == 0)
		return 0;
	if (next_token(&v, host, sizeof(host)) || next_token(&v, rest, sizeof(rest)) || rest[0])
		return EINVAL;
	c->next_hop.port = 5061;
	if (split_host_port(host, &c->next_hop.port) ||
	    (!conf_dns_name_valid(host) && addr_parse(host, 0, &sa)) ||
	    strlen(host) > CONF_NAME_MAX)
		return EINVAL;
	memcpy(c->next_hop.host, host, strlen(host) + 1);
	c->next_hop_set = true;
	return 0;
}
static void f_next_hop(const struct conf_key *k, const struct conf *c, size_t i, char *o, size_t n)
{
	(void)k;
	(void)i;
	if (!c->next_hop_set)
		snprintf(o, n, "off");
	else if (strchr(c->next_hop.host, ':'))
		snprintf(o, n, "[%s]:%u", c->next_hop.host, c->next_hop.port);
	else
		snprintf(o, n, "%s:%u", c->next_hop.host, c->next_hop.port);
}

/* USER PASSWORD, appended to users (n of them) unless the user is there. */
static int parse_user(const char *v, struct conf_user *users, size_t *n)
{
	struct conf_user u;
	char rest[2];
	if (*n >= CONF_USERS_MAX || next_token(&v, u.name, sizeof(u.name)) ||
	    next_token(&v, u.password, sizeof(u.password)) || next_token(&v, rest, sizeof(rest)) ||
	    rest[0] || !u.name[0] || !u.password[0] || strpbrk(u.name, "@:\"<>"))
		return EINVAL;
	for (size_t i = 0; i < *n; i++)
		if (strcmp(users[i].name, u.name) == 0)
			return EINVAL;
	users[(*n)++] = u;
	return 0;
}

/* sip_user USER PASSWORD */
static int p_user(const struct conf_key *k, struct conf *c, const char *v)
{
	(void)k;
	return parse_user(v, c->users, &c->n_users);
}
static void f_user(const struct conf_key *k, const struct conf *c, size_t i, char *o, size_t n)
{
	(void)k;
	snprintf(o, n, "%s %s", c->users[i].name, c->users[i].password);
}
static size_t n_users(const struct conf *c)
{
	return c->n_users;
}

/* turn_user USER PASSWORD */
static int p_turn_user(const struct conf_key *k, struct conf *c, const char *v)
{
	(void)k;
	return parse_user(v, c->turn_users, &c->n_turn_users);
}
static void f_turn_user(const struct conf_key *k, const struct conf *c, size_t i, char *o, size_t n)
{
	(void)k;
	snprintf(o, n, "%s %s", c->turn_users[i].name, c->turn_users[i].password);
}
static size_t n_turn_users(const struct conf *c)
{
	return c->n_turn_users;
}

/* relay_ports MIN-MAX */
static int p_relay_ports(const struct conf_key *k, struct conf *c, const char *v)
{
	char lo[8], hi[8];
	size_t dash = strcspn(v, "-");
	(void)k;
	if (!v[dash] || dash >= sizeof(lo) || strlen(v + dash + 1) >= sizeof(hi))
		return EINVAL;
	memcpy(lo, v, dash);
	lo[dash] = '\0';
	memcpy(hi, v + dash + 1, strlen(v + dash + 1) + 1);
	if (addr_port_parse(lo, false, &c->relay_port_min) ||
	    addr_port_parse(hi, false, &c->relay_port_max) || c->relay_port_min > c->relay_port_max)
		return EINVAL;
	return 0;
}
static void f_relay_ports(const struct conf_key *k, const struct conf *c, size_t i, char *o,
                          size_t n)
{
	(void)k;
	(void)i;
	snprintf(o, n, "%u-%u", c->relay_port_min, c->relay_port_max);
}

/* relay_address / relay_address6: auto or an address of the key's family
 * (k->min), no port. The set flag is the bool just before the address. */
static int p_relay_address(const struct conf_key *k, struct conf *c, const char *v)
{
	struct sockaddr_storage *sa = FIELD(c, k, struct sockaddr_storage *);
	bool *set = (bool *)((char *)c + k->max);
	*set = false;
	if (strcmp(v, "auto") == 0)
		return 0;
	if (strchr(v, ']') || addr_parse(v, 0, sa) || sa->ss_family != k->min)
		return EINVAL;
	if ((k->min == AF_INET && strchr(v, ':')))
		return EINVAL; /* a port: relayed ports come from relay_ports */
	*set = true;
	return 0;
}
static void f_relay_address(const struct conf_key *k, const struct conf *c, size_t i, char *o,
                            size_t n)
{
	(void)i;
	if (!*(const bool *)((const char *)c + k->max))
		snprintf(o, n, "auto");
	else
		addr_ip_str(CFIELD(c, k, struct sockaddr *), o, n);
}

/* canary_address: auto or an address, no port (each canary has its own). */
static int p_canary_address(const struct conf_key *k, struct conf *c, const char *v)
{
	(void)k;
	c->canary_address_set = false;
	if (strcmp(v, "auto") == 0)
		return 0;
	if (v[0] == '[' || addr_parse(v, 0, &c->canary_address) ||
	    addr_port((struct sockaddr *)&c->canary_address))
		return EINVAL;
	c->canary_address_set = true;
	return 0;
}
static void f_canary_address(const struct conf_key *k, const struct conf *c, size_t i, char *o,
                             size_t n)
{
	(void)k;
	(void)i;
	if (!c->canary_address_set)
		snprintf(o, n, "auto");
	else
		addr_ip_str((const struct sockaddr *)&c->canary_address, o, n);
}

/* peer_allow / peer_deny CIDR (k->min: allow). Checked with a scratch policy
 * so that a typo fails at load, not when the relay builds its own. */
static int p_peer_rule(const struct conf_key *k, struct conf *c, const char *v)
{
	struct policy *scratch;
	if (c->n_peer_rules >= CONF_PEER_RULES_MAX || strlen(v) >= CONF_CIDR_MAX)
		return EINVAL;
	if (policy_alloc(&scratch))
		return ENOMEM;
	int rc = policy_add(scratch, k->min, v);
	policy_free(scratch);
	if (rc)
		return EINVAL;
	struct conf_peer_rule *r = &c->peer_rules[c->n_peer_rules++];
	r->allow = k->min;
	memcpy(r->cidr, v, strlen(v) + 1);
	return 0;
}
/* Item i of this key's rules (allow or deny) among all rules. */
static const struct conf_peer_rule *peer_rule_at(const struct conf *c, bool allow, size_t i)
{
	for (size_t j = 0; j < c->n_peer_rules; j++)
		if (c->peer_rules[j].allow == allow && i-- == 0)
			return &c->peer_rules[j];
	return NULL;
}
static void f_peer_rule(const struct conf_key *k, const struct conf *c, size_t i, char *o, size_t n)
{
	const struct conf_peer_rule *r = peer_rule_at(c, k->min, i);
	snprintf(o, n, "%s", r ? r->cidr : "");
}
static size_t n_peer_allow(const struct conf *c)
{
	size_t n = 0;
	while (peer_rule_at(c, true, n))
		n++;
	return n;
}
static size_t n_peer_deny(const struct conf *c)
{
	size_t n = 0;
	while (peer_rule_at(c, false, n))
		n++;
	return n;
}

/* A port list: "off", or up to CONF_PORTS_MAX distinct ports 1..65535
 * separated by blanks. */
static int p_ports(const struct conf_key *k, struct conf *c, const char *v)
{
	struct conf_ports *ps = FIELD(c, k, struct conf_ports *), parsed = {0};
	char tok[8];
	if (strcmp(v, "off") != 0) {
		while (*v) {
			if (parsed.n == CONF_PORTS_MAX || next_token(&v, tok, sizeof(tok)) ||
			    addr_port_parse(tok, false, &parsed.port[parsed.n]))
				return EINVAL;
			for (size_t i = 0; i < parsed.n; i++)
				if (parsed.port[i] == parsed.port[parsed.n])
					return EINVAL;
			parsed.n++;
			while (*v == ' ' || *v == '\t')
				v++;
		}
	}
	*ps = parsed;
	return 0;
}
static void f_ports(const struct conf_key *k, const struct conf *c, size_t i, char *o, size_t n)
{
	const struct conf_ports *ps = CFIELD(c, k, struct conf_ports *);
	size_t len = 0;
	(void)i;
	snprintf(o, n, "off");
	for (size_t j = 0; j < ps->n && len < n; j++)
		len += (size_t)snprintf(o + len, n - len, "%s%u", j ? " " : "", ps->port[j]);
}

#define OFF(field)                offsetof(struct conf, field)
#define LISTEN(field, flag, port) p_listen, f_listen, NULL, OFF(field), port, OFF(flag)
#define UINT(field, lo, hi)       p_uint, f_uint, NULL, OFF(field), lo, hi

const struct conf_key conf_keys[] = {
    {{"log_level", "info", "error, warn, info or debug"},
     "error|warn|info|debug",
     p_log_level,
     f_log_level,
     NULL,
     0,
     0,
     0},
    {{"log_json", "no", "log JSON lines instead of plain text"},
     "yes|no",
     p_bool,
     f_bool,
     NULL,
     OFF(log_json),
     0,
     0},
    {{"workers", "0", "worker threads, each with its own event loop; 0 = one per CPU"},
     "a number 0..64",
     UINT(workers, 0, 64)},
    {{"stun_udp_listen", "0.0.0.0:3478", "STUN on UDP (row 6): ADDR[:PORT] or off"},
     "ADDR[:PORT] or off",
     LISTEN(stun_udp_listen, stun_udp_enabled, 3478)},
    {{"stun_tcp_listen", "0.0.0.0:3478", "STUN on TCP: ADDR[:PORT] or off"},
     "ADDR[:PORT] or off",
     LISTEN(stun_tcp_listen, stun_tcp_enabled, 3478)},
    {{"msturn_tls_listen", "off",
      "MS-TURN over pseudo-TLS (the A/V edge's TCP 443): ADDR[:PORT] or off"},
     "ADDR[:PORT] or off",
     LISTEN(msturn_tls_listen, msturn_tls_enabled, 443)},
    {{"stun_tcp_max_connections", "1024", "open STUN/TCP connections at most, in total"},
     "a number 1..1000000",
     UINT(stun_tcp_max_connections, 1, 1000000)},
    {{"stun_tcp_idle_timeout", "30", "seconds before an idle STUN/TCP connection is closed"},
     "seconds 1..86400",
     UINT(stun_tcp_idle_timeout, 1, 86400)},
    {{"stun_tcp_first_request_timeout", "10",
      "seconds for a STUN/TCP connection's first whole message (on pseudo-TLS: for its hello, "
      "then again for its first message); a quarter under pressure"},
     "seconds 1..300",
     UINT(stun_tcp_first_request_timeout, 1, 300)},
    {{"software", "edgelab", "SOFTWARE attribute in STUN replies, or off"},
     "at most 32 characters, or off",
     p_text,
     f_text,
     NULL,
     OFF(software),
     1,
     CONF_SOFTWARE_MAX},
    {{"control_socket", "auto", "control API (HTTP) unix socket path, auto, or off"},
     "an absolute path, auto or off",
     p_control_socket,
     f_control_socket,
     NULL,
     0,
     0,
     0},
    {{"control_listen", "off",
      "control API over HTTPS: ADDR:PORT or off (needs control_client or "
      "control_token_file)"},
     "ADDR:PORT or off",
     p_listen_port,
     f_listen,
     NULL,
     OFF(control_listen),
     0,
     OFF(control_listen_enabled)},
    {{"control_client", "",
      "a client certificate's DNS name let into the HTTPS control API (it must "
      "chain to tls_ca); repeat for each"},
     "a DNS name, each once, at most 16",
     p_control_client,
     f_control_client,
     n_control_clients,
     0,
     0,
     0},
    {{"control_token_file", "off",
      "a file whose first line is the HTTPS control API's bearer token (16-256 "
      "printable characters), or off"},
     "an absolute path or off",
     p_path_or_none,
     f_path_or_none,
     NULL,
     OFF(control_token_file),
     1,
     0},
    {{"control_max_connections", "32", "HTTPS control connections open at most"},
     "a number 1..10000",
     UINT(control_max_connections, 1, 10000)},
    {{"control_trigger_rate", "20",
      "control API triggers (POST /rows/N) per second per client; bursts of twice that"},
     "a number 1..10000",
     UINT(control_trigger_rate, 1, 10000)},
    {{"sip_domain", "edge.example", "the SIP domain the edge serves (registrar)"},
     "a DNS name",
     p_dns_name,
     f_text,
     NULL,
     OFF(sip_domain),
     0,
     CONF_NAME_MAX},
    {{"edge_fqdn", "sip.edge.example", "the edge's access FQDN (its certificate's name)"},
     "a DNS name",
     p_dns_name,
     f_text,
     NULL,
     OFF(edge_fqdn),
     0,
     CONF_NAME_MAX},
    {{"sip_tls_listen", "0.0.0.0:443", "SIP over TLS from clients (row 3): ADDR[:PORT] or off"},
     "ADDR[:PORT] or off",
     LISTEN(sip_tls_listen, sip_tls_enabled, 443)},
    {{"sip_mtls_listen", "0.0.0.0:5061", "SIP over mutual TLS from partners (row 1)"},
     "ADDR[:PORT] or off",
     LISTEN(sip_mtls_listen, sip_mtls_enabled, 5061)},
    {{"tls_certificate", "auto", "the edge's certificate (PEM); auto: /etc/edgelab/pki/edge.pem"},
     "an absolute path or auto",
     p_pki_path,
     f_text,
     NULL,
     OFF(tls_certificate),
     0,
     0},
    {{"tls_key", "auto", "its private key; auto: /etc/edgelab/pki/edge.key"},
     "an absolute path or auto",
     p_pki_path,
     f_text,
     NULL,
     OFF(tls_key),
     1,
     0},
    {{"tls_ca", "auto",
      "CA(s) that control API clients' certificates must chain to, and partners' unless "
      "tls_federation_ca is set; auto: /etc/edgelab/pki/ca.pem"},
     "an absolute path or auto",
     p_pki_path,
     f_text,
     NULL,
     OFF(tls_ca),
     2,
     0},
    {{"tls_federation_ca", "auto",
      "CA(s) that federation partners' certificates must chain to, on 5061 and when the "
      "edge connects to a partner; auto: the tls_ca file"},
     "an absolute path or auto",
     p_path_or_none,
     f_path_or_none,
     NULL,
     OFF(tls_federation_ca),
     0,
     1},
    {{"tls_generate", "no",
      "at start, when tls_certificate, tls_key and tls_ca are all missing, write a lab PKI there "
      "(edgelab pki) and log it: for a container's empty certificate volume"},
     "yes|no",
     p_bool,
     f_bool,
     NULL,
     OFF(tls_generate),
     0,
     0},
    {{"sip_handshake_timeout", "10",
      "seconds for a TLS handshake to complete; a quarter under pressure"},
     "seconds 1..300",
     UINT(sip_handshake_timeout, 1, 300)},
    {{"sip_first_request_timeout", "10",
      "seconds for a client's first SIP request after its TLS handshake; a quarter under "
      "pressure"},
     "seconds 1..300",
     UINT(sip_first_request_timeout, 1, 300)},
    {{"sip_idle_timeout", "300", "seconds before an idle SIP connection is closed"},
     "seconds 1..86400",
     UINT(sip_idle_timeout, 1, 86400)},
    {{"sip_max_connections", "1024", "open SIP connections at most, in total"},
     "a number 1..100000",
     UINT(sip_max_connections, 1, 100000)},
    {{"sip_max_connections_per_source", "32", "open SIP connections at most per source IP"},
     "a number 1..100000",
     UINT(sip_max_connections_source, 1, 100000)},
    {{"sip_partner_keepalive", "30",
      "seconds between the edge's OPTIONS to each partner "
      "with a HOST (row 2); 0: off"},
     "seconds 0..86400",
     UINT(sip_partner_keepalive, 0, 86400)},
    {{"dns_server", "system",
      "DNS server for partners' SRV and A/AAAA records: ADDR[:PORT], "
      "or system (/etc/resolv.conf)"},
     "ADDR[:PORT] or system",
     p_dns_server,
     f_dns_server,
     NULL,
     0,
     0,
     0},
    {{"sip_next_hop", "off",
      "internal next hop (TLS) for what the edge cannot route: "
      "HOST[:PORT] or off"},
     "HOST[:PORT] or off",
     p_next_hop,
     f_next_hop,
     NULL,
     0,
     0,
     0},
    {{"sip_user", "", "a registrar account: USER PASSWORD; with any, REGISTER needs Digest"},
     "USER PASSWORD, each user once, at most 64",
     p_user,
     f_user,
     n_users,
     0,
     0,
     0},
    {{"federation_partner", "", "a partner: DOMAIN [HOST[:PORT]]; repeat for each"},
     "DOMAIN [HOST[:PORT]], each domain once, at most 32",
     p_partner,
     f_partner,
     n_partners,
     0,
     0,
     0},
    {{"turn_realm", "edgelab", "TURN REALM (long-term credentials)"},
     "a DNS name",
     p_dns_name,
     f_text,
     NULL,
     OFF(turn_realm),
     0,
     CONF_NAME_MAX},
    {{"turn_user", "", "a TURN account: USER PASSWORD; repeat for each"},
     "USER PASSWORD, each user once, at most 64",
     p_turn_user,
     f_turn_user,
     n_turn_users,
     0,
     0,
     0},
    {{"use_auth_secret", "no", "also accept coturn-style REST credentials (static_auth_secret)"},
     "yes|no",
     p_bool,
     f_bool,
     NULL,
     OFF(use_auth_secret),
     0,
     0},
    {{"static_auth_secret", "off", "the REST API shared secret, or off"},
     "at most 64 characters, or off",
     p_text,
     f_text,
     NULL,
     OFF(static_auth_secret),
     1,
     CONF_SECRET_MAX},
    {{"mras_secret", "off",
      "MRAS-style relay credentials (SIP SERVICE on 443): the shared secret, or off"},
     "at most 64 characters, or off",
     p_text,
     f_text,
     NULL,
     OFF(mras_secret),
     1,
     CONF_SECRET_MAX},
    {{"mras_duration", "480", "minutes MRAS-style credentials stay valid"},
     "minutes 1..10080",
     UINT(mras_duration, 1, 10080)},
    {{"relay_ports", "50000-59999", "relayed transport ports, UDP and TCP: MIN-MAX"},
     "MIN-MAX, ports 1..65535",
     p_relay_ports,
     f_relay_ports,
     NULL,
     0,
     0,
     0},
    {{"relay_address", "auto", "IPv4 relayed address; auto: the one the Allocate arrived on"},
     "an IPv4 address or auto",
     p_relay_address,
     f_relay_address,
     NULL,
     OFF(relay_address),
     AF_INET,
     OFF(relay_address_set)},
    {{"relay_address6", "auto",
      "IPv6 relayed address; auto: the one the Allocate arrived on, if IPv6"},
     "an IPv6 address or auto",
     p_relay_address,
     f_relay_address,
     NULL,
     OFF(relay_address6),
     AF_INET6,
     OFF(relay_address6_set)},
    {{"allow_loopback_peers", "no", "let the relay send to 127.0.0.0/8 and ::1 (tests only)"},
     "yes|no",
     p_bool,
     f_bool,
     NULL,
     OFF(allow_loopback_peers),
     0,
     0},
    {{"relay_udp_offload", "no",
      "UDP offloads: runs of equal relayed datagrams to one address as one UDP_SEGMENT (GSO) "
      "send, and GRO runs read whole on the listener; fewer system calls, but a firewall on the "
      "same Linux host sees a GSO run as one packet, so the lab leaves it off (restart only)"},
     "yes|no",
     p_bool,
     f_bool,
     NULL,
     OFF(relay_udp_offload),
     0,
     0},
    {{"peer_allow", "", "a peer range the relay may reach, even if denied otherwise: CIDR"},
     "an address or CIDR, at most 64 rules",
     p_peer_rule,
     f_peer_rule,
     n_peer_allow,
     0,
     1,
     0},
    {{"peer_deny", "", "a peer range the relay must not reach: CIDR"},
     "an address or CIDR, at most 64 rules",
     p_peer_rule,
     f_peer_rule,
     n_peer_deny,
     0,
     0,
     0},
    {{"turn_user_quota", "100", "allocations at most per user; 0: no limit"},
     "a number 0..1000000",
     UINT(turn_user_quota, 0, 1000000)},
    {{"turn_total_quota", "0", "allocations at most in total; 0: as many as relay ports"},
     "a number 0..1000000",
     UINT(turn_total_quota, 0, 1000000)},
    {{"turn_max_bps", "0", "bytes per second relayed per allocation, each way; 0: no cap"},
     "a number 0..4000000000",
     UINT(turn_max_bps, 0, 4000000000u)},
    {{"turn_lifetime", "600", "allocation lifetime when the client asks for less, seconds"},
     "seconds 1..3600",
     UINT(turn_lifetime, 1, 3600)},
    {{"turn_max_lifetime", "3600", "longest allocation lifetime a client may ask for, seconds"},
     "seconds 1..86400",
     UINT(turn_max_lifetime, 1, 86400)},
    {{"turn_401_rate", "100", "401 replies per second per source address; 0: no limit"},
     "a number 0..1000000",
     UINT(turn_401_rate, 0, 1000000)},
    {{"turn_nonce_lifetime", "600", "seconds a nonce is good for; then 438 Stale Nonce"},
     "seconds 1..86400",
     UINT(turn_nonce_lifetime, 1, 86400)},
    {{"canary_tcp", "off",
      "strict mode's canaries: TCP ports the port table does not open, each hit recorded "
      "(GET /canary); off or PORT..."},
     "off, or at most 16 distinct ports 1..65535 separated by blanks",
     p_ports,
     f_ports,
     NULL,
     OFF(canary_tcp),
     0,
     0},
    {{"canary_udp", "off", "strict mode's canaries on UDP: off or PORT..."},
     "off, or at most 16 distinct ports 1..65535 separated by blanks",
     p_ports,
     f_ports,
     NULL,
     OFF(canary_udp),
     0,
     0},
    {{"canary_address", "auto",
      "the canaries' address; auto: stun_udp_listen's (the A/V edge's access address)"},
     "an IPv4 or IPv6 address or auto",
     p_canary_address,
     f_canary_address,
     NULL,
     0,
     0,
     0},
};
const size_t conf_keys_count = sizeof(conf_keys) / sizeof(conf_keys[0]);
_Static_assert(sizeof(conf_keys) / sizeof(conf_keys[0]) <= CONF_KEYS_MAX,
               "more keys than CONF_KEYS_MAX (core/conf.h): raise it");
