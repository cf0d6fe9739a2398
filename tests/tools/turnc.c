/* turnc: a scriptable TURN client for the shell tests. One socket (UDP, or
 * TCP with -t), one 5-tuple, the commands run in order, one output line
 * each, so that a test can assert response codes and what arrives:
 *
 *   alloc[:OPT,...]  Allocate; OPT: tcp (REQUESTED-TRANSPORT TCP), v6
 *                    (REQUESTED-ADDRESS-FAMILY IPv6), even, even-r, df,
 *                    token=HEX16, lifetime=N, transport=N (protocol number)
 *   refresh:N        Refresh with LIFETIME N
 *   perm:ADDR        CreatePermission (ADDR as IP, IP:PORT or [IPv6]:PORT)
 *   connect:ADDR     Connect (RFC 6062): prints the code and CONNECTION-ID
 *   cbind            ConnectionBind of the last CONNECTION-ID on a new TCP
 *                    connection, which becomes the data connection
 *   dsend:TEXT       writes TEXT on the data connection
 *   drecv:TEXT       waits 2 s for TEXT on the data connection
 *   dwait:N          waits N seconds for the data connection to end: prints
 *                    "dwait eof", "dwait reset" or "dwait timeout"
 *   bind:CHAN:ADDR   ChannelBind (CHAN in hex, e.g. 4001)
 *   send:ADDR:TEXT   Send indication
 *   chan:CHAN:TEXT   ChannelData
 *   recv:TEXT        waits 2 s for TEXT in a Data indication or ChannelData
 *   noauth           an unauthenticated Allocate: prints its code or "none"
 *   noauth:N         N of them at once: prints how many got an answer in 1 s
 *   flood:CHAN:N:SIZE  N ChannelData messages of SIZE bytes, back to back
 *   gflood:CHAN:N:SIZE the same in one UDP_SEGMENT (GSO) send (N <= 64,
 *                    SIZE <= 1000): one packet until the receiving socket
 *                    cuts it, or takes it whole with UDP GRO
 *   gbind:N[:S]      N Binding requests in one GSO send (N <= 64), then S
 *                    single ones (S <= 64): prints "gbind N+S answered M"
 *                    (the first answer within 5 s, each next within 1 s)
 *   pace:CHAN:S:PPS  ChannelData (100 bytes) at PPS per second for S seconds,
 *                    counting what comes back on CHAN meanwhile and for a
 *                    second after: "pace sent N got M"
 *   listen:CHAN:S    counts the ChannelData on CHAN that comes in S seconds,
 *                    sending nothing: "listen got N"
 *   sleep:N          waits N seconds
 *
 * Requests print "NAME CODE [key=value...]"; a 401 or 438 carrying a nonce
 * is retried once with it and prints both codes ("alloc 401 200 ..."). Over
 * UDP a request is sent again after 0.5, 1 and 2 s; CODE 0: no answer (in
 * 5.5 s on UDP, 2 s on TCP).
 * Exit 0 when every command ran, 2 on bad usage or a socket error. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "stun/stun.h"

struct client {
	int fd;
	bool tcp;
	const char *user, *pass;
	char realm[256], nonce[256];
	uint8_t key[16];
	bool have_nonce;
	struct sockaddr_storage server;
	uint32_t conn_id; /* the last Connect's */
	int data_fd;      /* RFC 6062 data connection, or -1 */
};

static int send_all(struct client *c, const void *buf, size_t len)
{
	return send(c->fd, buf, len, 0) == (ssize_t)len ? 0 : errno;
}

/* n messages of seg bytes each, from gso_buf, as one UDP_SEGMENT (GSO)
 * send: one packet until the receiving socket cuts it, or takes it whole
 * (UDP GRO). */
static uint8_t gso_buf[64 * 1004];
static int send_gso(struct client *c, size_t seg, unsigned n)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint16_t))];
	} ctl;
	struct iovec iov = {gso_buf, seg * n};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = ctl.buf,
	                    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	uint16_t size = (uint16_t)seg;
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(size));
	memcpy(CMSG_DATA(cm), &size, sizeof(size));
	return sendmsg(c->fd, &mh, 0) == (ssize_t)iov.iov_len ? 0 : errno;
}

/* Reads one message (datagram, or a framed STUN / ChannelData message on
 * TCP) within ms milliseconds. Returns its length, 0 on timeout. */
static size_t recv_msg(struct client *c, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	if (!c->tcp) {
		ssize_t n = recv(c->fd, buf, cap, 0);
		return n > 0 ? (size_t)n : 0;
	}
	if (recv(c->fd, buf, 4, MSG_WAITALL) != 4)
		return 0;
	size_t len = (size_t)(buf[2] << 8 | buf[3]);
	size_t total = (buf[0] & 0xC0) == 0x40 ? 4 + ((len + 3) & ~(size_t)3) : STUN_HDR_LEN + len;
	if (total > cap || recv(c->fd, buf + 4, total - 4, MSG_WAITALL) != (ssize_t)(total - 4))
		return 0;
	return total;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void new_tid(uint8_t tid[STUN_TID_LEN])
{
	static const uint8_t cookie[4] = {0x21, 0x12, 0xA4, 0x42};
	memcpy(tid, cookie, 4);
	for (int i = 4; i < STUN_TID_LEN; i++)
		tid[i] = (uint8_t)random();
}

/* Attributes of a request beyond the credentials, filled by a command. */
typedef void(attrs_h)(struct stun_enc *e, void *arg);

/* 200 for a success, else the ERROR-CODE. */
static int answer_code(const struct stun_msg *resp)
{
	int code = 200, dummy;
	const char *reason;
	size_t rlen;
	const struct stun_attr *err = stun_msg_attr(resp, STUN_ATTR_ERROR_CODE);
	if (resp->cls == STUN_CLASS_ERROR && err && !stun_attr_error(err, &dummy, &reason, &rlen))
		code = dummy;
	return code;
}

/* Sends a request and waits for its response (other messages are skipped);
 * returns the code (200 for success) or 0 on timeout; resp gets it. */
static int transact(struct client *c, uint16_t method, bool auth, attrs_h *attrs, void *arg,
                    struct stun_msg *resp, uint8_t *rbuf, size_t rcap)
{
	uint8_t buf[1024], tid[STUN_TID_LEN];
	struct stun_enc e;
	size_t len;
	new_tid(tid);
	stun_enc_init(&e, buf, sizeof(buf), STUN_DIALECT_RFC5389,
	              stun_type(method, STUN_CLASS_REQUEST), tid);
	if (attrs)
		attrs(&e, arg);
	if (auth && c->have_nonce) {
		stun_enc_attr(&e, STUN_ATTR_USERNAME, c->user, strlen(c->user));
		stun_enc_attr(&e, STUN_ATTR_REALM, c->realm, strlen(c->realm));
		stun_enc_attr(&e, STUN_ATTR_NONCE, c->nonce, strlen(c->nonce));
		stun_enc_integrity(&e, c->key, sizeof(c->key), STUN_MAC_SHA1);
	}
	stun_enc_fingerprint(&e);
	if (stun_enc_finish(&e, &len))
		return -1;
	/* Over UDP sent again after 0.5, 1 and 2 s (RFC 5389 section 7.2.1's
	 * RTO, doubled), as a real client would: a loaded server's socket may
	 * drop a request. 2 s for the last answer, or the only one on TCP. */
	for (int try = 0, wait = 500; try < (c->tcp ? 1 : 4); try++, wait *= 2) {
		if (send_all(c, buf, len))
			return -1;
		uint64_t end = now_ms() + (c->tcp || try == 3 ? 2000 : (unsigned)wait);
		size_t n = 1;
		for (uint64_t t; n && (t = now_ms()) < end;) {
			n = recv_msg(c, rbuf, rcap, (int)(end - t));
			if (n && !stun_msg_decode(resp, rbuf, n) &&
			    !memcmp(resp->tid, tid, STUN_TID_LEN))
				return answer_code(resp);
		}
	}
	return 0;
}

static void take_nonce(struct client *c, const struct stun_msg *m)
{
	const struct stun_attr *realm = stun_msg_attr(m, STUN_ATTR_REALM);
	const struct stun_attr *nonce = stun_msg_attr(m, STUN_ATTR_NONCE);
	if (!realm || !nonce || realm->len >= sizeof(c->realm) || nonce->len >= sizeof(c->nonce))
		return;
	memcpy(c->realm, realm->val, realm->len);
	c->realm[realm->len] = '\0';
	memcpy(c->nonce, nonce->val, nonce->len);
	c->nonce[nonce->len] = '\0';
	stun_key_longterm(c->user, c->realm, c->pass, c->key);
	c->have_nonce = true;
}

/* An authenticated request: retried once on 401 / 438 with the new nonce. */
static int request(struct client *c, const char *name, uint16_t method, attrs_h *attrs, void *arg,
                   struct stun_msg *resp, uint8_t *rbuf, size_t rcap)
{
	int code = transact(c, method, true, attrs, arg, resp, rbuf, rcap);
	printf("%s %d", name, code);
	if ((code == 401 || code == 438) && stun_msg_attr(resp, STUN_ATTR_NONCE)) {
		take_nonce(c, resp);
		code = transact(c, method, true, attrs, arg, resp, rbuf, rcap);
		printf(" %d", code);
	}
	return code;
}

static int parse_peer(const char *s, struct sockaddr_storage *sa)
{
	return addr_parse(s, 9, sa);
}

struct alloc_opts {
	bool tcp, v6, even, even_r, df;
	uint8_t transport; /* 0: UDP or TCP per tcp */
	bool token;
	uint8_t token_val[8];
	uint32_t lifetime;
};

static void alloc_attrs(struct stun_enc *e, void *arg)
{
	const struct alloc_opts *o = arg;
	uint8_t tr[4] = {o->transport ? o->transport : o->tcp ? 6 : 17, 0, 0, 0};
	stun_enc_attr(e, STUN_ATTR_REQUESTED_TRANSPORT, tr, 4);
	if (o->v6) {
		uint8_t fam[4] = {2, 0, 0, 0};
		stun_enc_attr(e, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, fam, 4);
	}
	if (o->even || o->even_r) {
		uint8_t v = o->even_r ? 0x80 : 0;
		stun_enc_attr(e, STUN_ATTR_EVEN_PORT, &v, 1);
	}
	if (o->df)
		stun_enc_attr(e, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	if (o->token)
		stun_enc_attr(e, STUN_ATTR_RESERVATION_TOKEN, o->token_val, 8);
	if (o->lifetime)
		stun_enc_u32(e, STUN_ATTR_LIFETIME, o->lifetime);
}

static int parse_alloc_opts(const char *s, struct alloc_opts *o)
{
	memset(o, 0, sizeof(*o));
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", s);
	for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "tcp"))
			o->tcp = true;
		else if (!strcmp(t, "v6"))
			o->v6 = true;
		else if (!strcmp(t, "even"))
			o->even = true;
		else if (!strcmp(t, "even-r"))
			o->even_r = true;
		else if (!strcmp(t, "df"))
			o->df = true;
		else if (!strncmp(t, "transport=", 10))
			o->transport = (uint8_t)strtoul(t + 10, NULL, 10);
		else if (!strncmp(t, "lifetime=", 9))
			o->lifetime = (uint32_t)strtoul(t + 9, NULL, 10);
		else if (!strncmp(t, "token=", 6) && strlen(t + 6) == 16) {
			o->token = true;
			for (int i = 0; i < 8; i++)
				sscanf(t + 6 + 2 * i, "%2hhx", &o->token_val[i]);
		} else
			return EINVAL;
	}
	return 0;
}

static void print_xor_addr(const struct stun_msg *m, uint16_t type, const char *key)
{
	const struct stun_attr *a = stun_msg_attr(m, type);
	struct sockaddr_storage sa;
	char s[ADDR_STR_MAX];
	if (a && !stun_attr_xor_addr(m, a, &sa))
		printf(" %s=%s", key, addr_str((struct sockaddr *)&sa, s, sizeof(s)));
}

static void print_alloc(const struct stun_msg *m)
{
	print_xor_addr(m, STUN_ATTR_XOR_RELAYED_ADDRESS, "relayed");
	print_xor_addr(m, STUN_ATTR_XOR_MAPPED_ADDRESS, "mapped");
	const struct stun_attr *t = stun_msg_attr(m, STUN_ATTR_RESERVATION_TOKEN);
	if (t && t->len == 8) {
		printf(" token=");
		for (int i = 0; i < 8; i++)
			printf("%02x", t->val[i]);
	}
	uint32_t lt;
	const struct stun_attr *l = stun_msg_attr(m, STUN_ATTR_LIFETIME);
	if (l && !stun_attr_u32(l, &lt))
		printf(" lifetime=%u", lt);
}

struct peer_arg {
	struct sockaddr_storage peer;
	uint16_t chan;
	uint32_t lifetime;
};

static void peer_attrs(struct stun_enc *e, void *arg)
{
	struct peer_arg *p = arg;
	if (p->chan)
		stun_enc_u32(e, STUN_ATTR_CHANNEL_NUMBER, (uint32_t)p->chan << 16);
	stun_enc_xor_addr(e, STUN_ATTR_XOR_PEER_ADDRESS, (struct sockaddr *)&p->peer);
}

static void lifetime_attrs(struct stun_enc *e, void *arg)
{
	stun_enc_u32(e, STUN_ATTR_LIFETIME, ((struct peer_arg *)arg)->lifetime);
}

/* The payload of a Data indication or ChannelData, or NULL. */
static const uint8_t *payload_of(const uint8_t *buf, size_t n, struct stun_msg *m, size_t *len)
{
	if (n >= 4 && (buf[0] & 0xC0) == 0x40) {
		*len = (size_t)(buf[2] << 8 | buf[3]);
		return *len <= n - 4 ? buf + 4 : NULL;
	}
	if (stun_msg_decode(m, buf, n) || m->method != STUN_METHOD_DATA)
		return NULL;
	const struct stun_attr *d = stun_msg_attr(m, STUN_ATTR_DATA);
	if (!d)
		return NULL;
	*len = d->len;
	return d->val;
}

static void conn_id_attr(struct stun_enc *e, void *arg)
{
	stun_enc_u32(e, STUN_ATTR_CONNECTION_ID, *(uint32_t *)arg);
}

/* ConnectionBind (RFC 6062 section 4.3) on a new connection, with the
 * control connection's credentials and nonce: on 200 it carries data. */
static int connection_bind(struct client *c, struct stun_msg *resp, uint8_t *rbuf, size_t rcap)
{
	struct sockaddr *sa = (struct sockaddr *)&c->server;
	int fd = socket(sa->sa_family, SOCK_STREAM, 0), control = c->fd;
	if (fd < 0 || connect(fd, sa, addr_len(sa)))
		return errno;
	c->fd = fd;
	int code = transact(c, STUN_METHOD_CONNECTION_BIND, true, conn_id_attr, &c->conn_id, resp,
	                    rbuf, rcap);
	c->fd = control;
	printf("cbind %d\n", code);
	fflush(stdout);
	if (code != 200) {
		close(fd);
		return 0;
	}
	if (c->data_fd >= 0)
		close(c->data_fd);
	c->data_fd = fd;
	return 0;
}

/* dsend, drecv and dwait on the data connection. */
static int data_cmd(struct client *c, const char *cmd, const char *arg)
{
	char buf[4096];
	if (c->data_fd < 0)
		return ENOTCONN;
	if (cmd[1] == 's') {
		if (send(c->data_fd, arg, strlen(arg), MSG_NOSIGNAL) != (ssize_t)strlen(arg))
			return errno;
		printf("dsend sent\n");
	} else if (cmd[1] == 'r') {
		size_t have = 0, want = strlen(arg);
		struct pollfd pfd = {.fd = c->data_fd, .events = POLLIN};
		while (have < want && have < sizeof(buf) && poll(&pfd, 1, 2000) > 0) {
			ssize_t n = recv(c->data_fd, buf + have, sizeof(buf) - have, 0);
			if (n <= 0)
				break;
			have += (size_t)n;
		}
		printf("drecv %s\n", have >= want && !memcmp(buf, arg, want) ? "ok" : "timeout");
	} else {
		/* Reads (and throws away) what still comes until the end. */
		struct pollfd pfd = {.fd = c->data_fd, .events = POLLIN};
		const char *how = "timeout";
		for (int ms = atoi(arg) * 1000; ms > 0 && poll(&pfd, 1, 100) >= 0; ms -= 100) {
			if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = recv(c->data_fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				how = n == 0 ? "eof" : "reset";
				break;
			}
		}
		printf("dwait %s\n", how);
	}
	fflush(stdout);
	return 0;
}

/* pace: traffic that lasts, for a test that acts on serve meanwhile. */
static int pace(struct client *c, const char *arg)
{
	unsigned ch, secs, pps, sent = 0, got = 0;
	uint8_t buf[4 + 100] = {0}, rbuf[4096];
	if (sscanf(arg, "%x:%u:%u", &ch, &secs, &pps) != 3 || !pps || pps > 1000)
		return EINVAL;
	buf[0] = (uint8_t)(ch >> 8), buf[1] = (uint8_t)ch, buf[3] = 100;
	uint64_t start = now_ms(), end = start + (uint64_t)secs * 1000, t;
	while ((t = now_ms()) < end + 1000) {
		if (t < end && sent < (t - start) * pps / 1000 + 1) {
			if (send_all(c, buf, sizeof(buf)))
				return EIO;
			sent++;
		}
		size_t n = recv_msg(c, rbuf, sizeof(rbuf), 1);
		got += n >= 4 && rbuf[0] == buf[0] && rbuf[1] == buf[1];
	}
	printf("pace sent %u got %u", sent, got);
	return 0;
}

static int run(struct client *c, const char *cmd)
{
	uint8_t rbuf[4096];
	struct stun_msg resp;
	struct peer_arg pa = {0};
	char arg[512];
	const char *colon = strchr(cmd, ':');
	snprintf(arg, sizeof(arg), "%s", colon ? colon + 1 : "");
	if (!strncmp(cmd, "alloc", 5)) {
		struct alloc_opts o;
		if (parse_alloc_opts(arg, &o))
			return EINVAL;
		if (request(c, "alloc", STUN_METHOD_ALLOCATE, alloc_attrs, &o, &resp, rbuf,
		            sizeof(rbuf)) == 200)
			print_alloc(&resp);
	} else if (!strcmp(cmd, "noauth")) {
		struct alloc_opts o = {0};
		int code = transact(c, STUN_METHOD_ALLOCATE, false, alloc_attrs, &o, &resp, rbuf,
		                    sizeof(rbuf));
		if (code)
			printf("noauth %d", code);
		else
			printf("noauth none");
	} else if (!strncmp(cmd, "noauth:", 7)) {
		int n = atoi(arg), answered = 0;
		uint8_t buf[64], tid[STUN_TID_LEN];
		struct alloc_opts o = {0};
		for (int i = 0; i < n; i++) {
			struct stun_enc e;
			size_t len;
			new_tid(tid);
			stun_enc_init(&e, buf, sizeof(buf), STUN_DIALECT_RFC5389,
			              stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST), tid);
			alloc_attrs(&e, &o);
			if (stun_enc_finish(&e, &len) || send_all(c, buf, len))
				return EIO;
		}
		while (recv_msg(c, rbuf, sizeof(rbuf), 1000))
			answered++;
		printf("noauth %d answered %d", n, answered);
	} else if (!strncmp(cmd, "flood:", 6)) {
		unsigned ch, n, size;
		uint8_t buf[1500] = {0};
		if (sscanf(arg, "%x:%u:%u", &ch, &n, &size) != 3 || size > sizeof(buf) - 4)
			return EINVAL;
		buf[0] = (uint8_t)(ch >> 8), buf[1] = (uint8_t)ch;
		buf[2] = (uint8_t)(size >> 8), buf[3] = (uint8_t)size;
		size_t len = 4 + ((size + (c->tcp ? 3 : 0)) & ~(unsigned)(c->tcp ? 3 : 0));
		for (unsigned i = 0; i < n; i++)
			if (send_all(c, buf, len))
				return EIO;
		printf("flood sent %u", n);
	} else if (!strncmp(cmd, "gflood:", 7)) {
		unsigned ch, n, size;
		if (c->tcp || sscanf(arg, "%x:%u:%u", &ch, &n, &size) != 3 || n < 1 || n > 64 ||
		    size > 1000)
			return EINVAL;
		for (unsigned i = 0; i < n; i++) {
			uint8_t *m = gso_buf + i * (4 + size);
			m[0] = (uint8_t)(ch >> 8), m[1] = (uint8_t)ch;
			m[2] = (uint8_t)(size >> 8), m[3] = (uint8_t)size;
			memset(m + 4, (int)i, size);
		}
		if (send_gso(c, 4 + size, n))
			return EIO;
		printf("gflood sent %u", n);
	} else if (!strncmp(cmd, "gbind:", 6)) {
		unsigned n, singles = 0, answered = 0;
		if (c->tcp || sscanf(arg, "%u:%u", &n, &singles) < 1 || n < 1 || n > 64 ||
		    singles > 64)
			return EINVAL;
		for (unsigned i = 0; i < n; i++) {
			uint8_t tid[STUN_TID_LEN];
			struct stun_enc e;
			size_t len;
			new_tid(tid);
			stun_enc_init(&e, gso_buf + i * STUN_HDR_LEN, STUN_HDR_LEN,
			              STUN_DIALECT_RFC5389,
			              stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), tid);
			if (stun_enc_finish(&e, &len) || len != STUN_HDR_LEN)
				return EIO;
		}
		if (send_gso(c, STUN_HDR_LEN, n))
			return EIO;
		for (unsigned i = 0; i < singles; i++) {
			uint8_t one[STUN_HDR_LEN];
			memcpy(one, gso_buf, sizeof(one));
			one[8] = (uint8_t)i; /* a transaction id of its own */
			one[9] = 0xA5;
			if (send_all(c, one, sizeof(one)))
				return EIO;
		}
		/* the first answer may wait for a server held by the test */
		for (int wait = 5000; recv_msg(c, rbuf, sizeof(rbuf), wait); wait = 1000)
			answered++;
		printf("gbind %u answered %u", n + singles, answered);
	} else if (!strncmp(cmd, "pace:", 5)) {
		int rc = pace(c, arg);
		if (rc)
			return rc;
	} else if (!strncmp(cmd, "listen:", 7)) {
		unsigned ch, secs, got = 0;
		if (sscanf(arg, "%x:%u", &ch, &secs) != 2)
			return EINVAL;
		for (uint64_t end = now_ms() + secs * 1000ull; now_ms() < end;) {
			size_t n = recv_msg(c, rbuf, sizeof(rbuf), 10);
			got += n >= 4 && (unsigned)(rbuf[0] << 8 | rbuf[1]) == ch;
		}
		printf("listen got %u", got);
	} else if (!strncmp(cmd, "refresh:", 8)) {
		pa.lifetime = (uint32_t)strtoul(arg, NULL, 10);
		if (request(c, "refresh", STUN_METHOD_REFRESH, lifetime_attrs, &pa, &resp, rbuf,
		            sizeof(rbuf)) == 200)
			print_alloc(&resp);
	} else if (!strncmp(cmd, "perm:", 5)) {
		if (parse_peer(arg, &pa.peer))
			return EINVAL;
		request(c, "perm", STUN_METHOD_CREATE_PERMISSION, peer_attrs, &pa, &resp, rbuf,
		        sizeof(rbuf));
	} else if (!strncmp(cmd, "connect:", 8)) {
		if (parse_peer(arg, &pa.peer))
			return EINVAL;
		uint32_t id;
		const struct stun_attr *cid;
		if (request(c, "connect", STUN_METHOD_CONNECT, peer_attrs, &pa, &resp, rbuf,
		            sizeof(rbuf)) == 200 &&
		    (cid = stun_msg_attr(&resp, STUN_ATTR_CONNECTION_ID)) &&
		    !stun_attr_u32(cid, &id)) {
			printf(" id=%u", id);
			c->conn_id = id;
		}
	} else if (!strcmp(cmd, "cbind")) {
		return connection_bind(c, &resp, rbuf, sizeof(rbuf));
	} else if (!strncmp(cmd, "dsend:", 6) || !strncmp(cmd, "drecv:", 6) ||
	           !strncmp(cmd, "dwait:", 6)) {
		return data_cmd(c, cmd, arg);
	} else if (!strncmp(cmd, "bind:", 5)) {
		char *rest = strchr(arg, ':');
		if (!rest || parse_peer(rest + 1, &pa.peer))
			return EINVAL;
		pa.chan = (uint16_t)strtoul(arg, NULL, 16);
		request(c, "bind", STUN_METHOD_CHANNEL_BIND, peer_attrs, &pa, &resp, rbuf,
		        sizeof(rbuf));
	} else if (!strncmp(cmd, "send:", 5) || !strncmp(cmd, "chan:", 5)) {
		char *text = strrchr(arg, ':');
		uint8_t buf[1024];
		size_t len;
		if (!text)
			return EINVAL;
		*text++ = '\0';
		size_t tlen = strlen(text);
		if (cmd[0] == 's') {
			uint8_t tid[STUN_TID_LEN];
			struct stun_enc e;
			if (parse_peer(arg, &pa.peer))
				return EINVAL;
			new_tid(tid);
			stun_enc_init(&e, buf, sizeof(buf), STUN_DIALECT_RFC5389,
			              stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION), tid);
			stun_enc_xor_addr(&e, STUN_ATTR_XOR_PEER_ADDRESS,
			                  (struct sockaddr *)&pa.peer);
			stun_enc_attr(&e, STUN_ATTR_DATA, text, tlen);
			if (stun_enc_finish(&e, &len))
				return EINVAL;
		} else {
			uint16_t ch = (uint16_t)strtoul(arg, NULL, 16);
			if (tlen > sizeof(buf) - 8)
				return EINVAL;
			buf[0] = (uint8_t)(ch >> 8), buf[1] = (uint8_t)ch;
			buf[2] = (uint8_t)(tlen >> 8), buf[3] = (uint8_t)tlen;
			memcpy(buf + 4, text, tlen);
			len = 4 + tlen;
			while (c->tcp && (len & 3))
				buf[len++] = 0;
		}
		if (send_all(c, buf, len))
			return errno;
		printf("%.4s sent", cmd);
	} else if (!strncmp(cmd, "recv:", 5)) {
		const char *got = "timeout";
		for (int i = 0; i < 50; i++) {
			size_t n = recv_msg(c, rbuf, sizeof(rbuf), 2000), len;
			const uint8_t *p = n ? payload_of(rbuf, n, &resp, &len) : NULL;
			if (!n)
				break;
			if (p && len == strlen(arg) && !memcmp(p, arg, len)) {
				got = (rbuf[0] & 0xC0) == 0x40 ? "channel" : "data";
				break;
			}
		}
		printf("recv %s", got);
	} else if (!strncmp(cmd, "sleep:", 6)) {
		sleep((unsigned)atoi(arg));
		printf("sleep");
	} else {
		return EINVAL;
	}
	printf("\n");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct client c = {.user = "alice", .pass = "secret", .data_fd = -1};
	struct sockaddr_storage local;
	struct sockaddr_storage *server = &c.server;
	const char *server_s = NULL, *local_s = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "ts:u:p:L:")) != -1) {
		if (opt == 't')
			c.tcp = true;
		else if (opt == 's')
			server_s = optarg;
		else if (opt == 'u')
			c.user = optarg;
		else if (opt == 'p')
			c.pass = optarg;
		else if (opt == 'L')
			local_s = optarg;
		else
			return 2;
	}
	if (!server_s || addr_parse(server_s, 3478, server) ||
	    (local_s && addr_parse(local_s, 0, &local))) {
		fprintf(stderr,
		        "usage: turnc [-t] -s HOST:PORT [-u USER] [-p PASS] [-L IP] CMD...\n");
		return 2;
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	c.fd = socket(server->ss_family, c.tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (c.fd < 0 ||
	    (local_s &&
	     bind(c.fd, (struct sockaddr *)&local, addr_len((struct sockaddr *)&local))) ||
	    connect(c.fd, (struct sockaddr *)server, addr_len((struct sockaddr *)server))) {
		perror("turnc");
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		int rc = run(&c, argv[i]);
		if (rc) {
			fprintf(stderr, "turnc: %s: %s\n", argv[i], strerror(rc));
			return 2;
		}
	}
	close(c.fd);
	return 0;
}
