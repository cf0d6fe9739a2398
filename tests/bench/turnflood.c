/* turnflood: a TURN (RFC 5766/8656) load generator for the benchmark in
 * tests/bench (see README.md there). It is not part of `make check`.
 *
 *   turnflood flood --flows N --size BYTES [options]   ChannelData flood
 *   turnflood calls --count N [options]                calls at 50 packets/s, echoed
 *   turnflood alloc --count N [options]                allocation rate / RSS
 *
 * Each flow, call or allocation is one client UDP socket (one 5-tuple):
 * Allocate (401, then with long-term credentials), in flood and calls mode
 * ChannelBind to a peer of its own, then ChannelData. Every flow has a
 * distinct peer address (127.1.x.y, one per flow), as a server that
 * demultiplexes the peer side by the peer's address needs (coturn's
 * --multiplex-peer answers a second allocation's ChannelBind to a peer that
 * another one on its thread holds with 400); the peers are this program's
 * own UDP sockets bound to INADDR_ANY, which receive for every 127/8 address.
 *
 * flood: ChannelData with sendmmsg from --threads sender threads; receiver
 * threads drain the sinks with recvmmsg. The relayed count is what arrived at
 * the sinks' sockets: read by us plus dropped by the kernel at a sink socket
 * (/proc/net/udp), measured over a window after a warm-up.
 * calls: every call sends --pps ChannelData packets a second, evenly spread;
 * the peer echoes each one back through the relay, and the loss is what did
 * not come back, per call and in total, over the window.
 *
 * With --pid the server's CPU time (utime + stime, /proc/PID/stat) and RSS
 * (/proc/PID/status) are read at the window's edges. Output: one line of
 * key=value pairs on stdout.
 *
 * The STUN messages are encoded and checked with the project's codec
 * (stun/stun.h). Every loop is bounded, every wait has a timeout. */
#define _GNU_SOURCE
#include "stun/stun.h"

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define MAX_FLOWS     20000
#define MAX_THREADS   16
#define MAX_SINKS     64
#define MAX_PAYLOAD   1400
#define BATCH         32
#define RTO_MS        400
#define MAX_TRIES     7
#define NONCE_MAX     256
#define REALM_MAX     128
#define CHANNEL_FIRST 0x4000

enum state {
	ST_IDLE,
	ST_ALLOC_UNAUTH, /* Allocate without credentials sent, 401 expected */
	ST_ALLOC_AUTH,   /* Allocate with credentials sent */
	ST_CHANBIND,     /* ChannelBind sent */
	ST_READY,        /* allocated (and bound in flood mode) */
	ST_REFRESH0,     /* Refresh LIFETIME 0 sent */
	ST_CLOSED,       /* deallocated */
	ST_FAILED,
};

struct sess {
	int fd;
	enum state st;
	uint8_t tid[STUN_TID_LEN];
	uint8_t req[STUN_MAX_MSG_LEN];
	size_t req_len;
	double deadline; /* of the outstanding request */
	int tries;
	int stale;   /* 438 answers taken for this session */
	int rebinds; /* 437 to a first Allocate: a new local port */
	uint16_t chan;
	uint16_t nonce_len;
	uint8_t nonce[NONCE_MAX];
	struct sockaddr_in peer; /* the sink this flow's channel points at */
	struct sockaddr_in relayed;
};

struct opts {
	const char *mode;
	struct sockaddr_in server;
	const char *user, *pass;
	int flows; /* flood: flows; alloc: allocations */
	int size;  /* payload bytes the peer receives */
	double duration, warmup, hold, timeout;
	int threads;    /* sender threads */
	int rx_threads; /* sink reader threads */
	int sinks;
	int window;  /* requests in flight during setup */
	double rate; /* flood: packets/s offered in total; 0 = unpaced; -1 = auto */
	double pps;  /* calls: packets/s of one call, each way */
	double drain;
	int pid; /* server process, 0 = none */
	int client_lo, client_hi;
	int sink_lo;
	int verbose;
};

static struct opts o = {
    .user = "bench",
    .pass = "bench",
    .flows = 1,
    .size = 172,
    .duration = 3,
    .warmup = 0.5,
    .hold = 1,
    .timeout = 60,
    .threads = 1,
    .rx_threads = 1,
    .sinks = 8,
    .window = 256,
    .rate = -1,
    .pps = 50,
    .drain = 0.5,
    .client_lo = 20000,
    .client_hi = 31999,
    .sink_lo = 19000,
};

static struct sess *sessions;
static int nsess;
static char realm[REALM_MAX];
static uint8_t key[16];
static int have_key;
static int sink_fd[MAX_SINKS];
static int nsinks;
static atomic_int stop_flag;
static atomic_ullong rx_count;
static atomic_ullong tx_count;
static atomic_ullong tx_errors;
static _Atomic double rate_now; /* packets/s in total the senders pace to; 0 = unpaced */
static int sess_ep = -1;        /* epoll of the sessions while run_sessions runs */
static unsigned long long setup_retrans, setup_stale;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "turnflood: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void fail(const char *msg)
{
	fprintf(stderr, "turnflood: %s\n", msg);
	exit(2);
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- the server process, from /proc ---- */

/* utime + stime of the whole process (all threads), seconds; -1 on error. */
static double proc_cpu(int pid)
{
	char path[64], buf[1024];
	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* after ") ": state(3) ppid(4) ... utime(14) stime(15) */
	unsigned long long ut = 0, st = 0;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long proc_rss_kib(int pid)
{
	char path[64], line[256];
	long kib = -1;
	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	for (int i = 0; i < 100 && fgets(line, sizeof(line), f); i++)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Sums the drop counters of the IPv4 UDP sockets whose local port is in
 * [lo, hi] (/proc/net/udp: local address is the 2nd column, drops the 13th). */
static unsigned long long udp_drops(int lo, int hi)
{
	char line[512];
	unsigned long long sum = 0;
	FILE *f = fopen("/proc/net/udp", "r");
	if (!f)
		return 0;
	for (int i = 0; i < 1000000 && fgets(line, sizeof(line), f); i++) {
		unsigned port;
		unsigned long long drops;
		if (sscanf(line, " %*u: %*8x:%4x %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
		           &port, &drops) != 2)
			continue;
		if ((int)port >= lo && (int)port <= hi)
			sum += drops;
	}
	fclose(f);
	return sum;
}

/* ---- sockets ---- */

static int next_client_port;

static int udp_socket_bound(uint32_t addr, int port_lo, int port_hi, int *cursor)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(addr);
	for (int i = 0; i <= port_hi - port_lo; i++) {
		int port = *cursor;
		*cursor = port >= port_hi ? port_lo : port + 1;
		a.sin_port = htons((uint16_t)port);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		if (errno != EADDRINUSE)
			die("bind");
	}
	fail("no free port in the client port range (--client-ports)");
	return -1;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl");
}

static void raise_nofile(int need)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit");
	if (rl.rlim_cur >= (rlim_t)need)
		return;
	rlim_t want = (rlim_t)need;
	if (rl.rlim_max < want) {
		struct rlimit up = {want, want};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
		want = rl.rlim_max;
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("setrlimit");
	if (want < (rlim_t)need)
		fprintf(stderr, "turnflood: warning: RLIMIT_NOFILE %llu < %d needed\n",
		        (unsigned long long)want, need);
}

/* ---- STUN requests ---- */

static void new_tid(uint8_t tid[STUN_TID_LEN])
{
	static uint64_t ctr;
	uint32_t c = STUN_MAGIC_COOKIE;
	tid[0] = (uint8_t)(c >> 24);
	tid[1] = (uint8_t)(c >> 16);
	tid[2] = (uint8_t)(c >> 8);
	tid[3] = (uint8_t)c;
	uint64_t v = ++ctr ^ ((uint64_t)getpid() << 40);
	for (int i = 0; i < 8; i++)
		tid[4 + i] = (uint8_t)(v >> (8 * i));
	uint32_t r = (uint32_t)rand();
	memcpy(tid + 12, &r, 4);
}

static void send_req(struct sess *s)
{
	if (send(s->fd, s->req, s->req_len, 0) < 0 && errno != EAGAIN && errno != ENOBUFS &&
	    errno != ECONNREFUSED)
		die("send");
	s->deadline = now() + RTO_MS / 1000.0 * (1 << (s->tries < 4 ? s->tries : 4));
	s->tries++;
}

/* Builds and sends the request for the session's state. */
static void build_req(struct sess *s)
{
	struct stun_enc e;
	uint16_t method = STUN_METHOD_ALLOCATE;
	if (s->st == ST_CHANBIND)
		method = STUN_METHOD_CHANNEL_BIND;
	else if (s->st == ST_REFRESH0)
		method = STUN_METHOD_REFRESH;
	new_tid(s->tid);
	stun_enc_init(&e, s->req, sizeof(s->req), STUN_DIALECT_RFC5389,
	              stun_type(method, STUN_CLASS_REQUEST), s->tid);
	if (method == STUN_METHOD_ALLOCATE)
		stun_enc_u32(&e, STUN_ATTR_REQUESTED_TRANSPORT, 17u << 24);
	if (method == STUN_METHOD_CHANNEL_BIND) {
		stun_enc_u32(&e, STUN_ATTR_CHANNEL_NUMBER, (uint32_t)s->chan << 16);
		stun_enc_xor_addr(&e, STUN_ATTR_XOR_PEER_ADDRESS, (struct sockaddr *)&s->peer);
	}
	if (method == STUN_METHOD_REFRESH)
		stun_enc_u32(&e, STUN_ATTR_LIFETIME, 0);
	if (s->st != ST_ALLOC_UNAUTH) {
		stun_enc_attr(&e, STUN_ATTR_USERNAME, o.user, strlen(o.user));
		stun_enc_attr(&e, STUN_ATTR_REALM, realm, strlen(realm));
		stun_enc_attr(&e, STUN_ATTR_NONCE, s->nonce, s->nonce_len);
		stun_enc_integrity(&e, key, sizeof(key), STUN_MAC_SHA1);
	}
	if (stun_enc_finish(&e, &s->req_len) != 0)
		fail("cannot encode a request");
	s->tries = 0;
	send_req(s);
}

static void take_nonce(struct sess *s, const struct stun_msg *m)
{
	const struct stun_attr *n = stun_msg_attr(m, STUN_ATTR_NONCE);
	const struct stun_attr *r = stun_msg_attr(m, STUN_ATTR_REALM);
	if (n && n->len <= NONCE_MAX) {
		memcpy(s->nonce, n->val, n->len);
		s->nonce_len = n->len;
	}
	if (r && r->len < REALM_MAX &&
	    (!have_key || strlen(realm) != r->len || memcmp(realm, r->val, r->len) != 0)) {
		memcpy(realm, r->val, r->len);
		realm[r->len] = 0;
		stun_key_longterm(o.user, realm, o.pass, key);
		have_key = 1;
	}
}

static int verbose_errors = 5;

static void sess_fail(struct sess *s, const char *why, int code)
{
	if (verbose_errors > 0 || o.verbose) {
		verbose_errors--;
		fprintf(stderr, "turnflood: session %d (state %d): %s %d\n", (int)(s - sessions),
		        (int)s->st, why, code);
	}
	s->st = ST_FAILED;
}

/* Handles one datagram on a session's socket. Returns 1 when the session left
 * the in-flight states (ready, closed or failed). */
static int on_response(struct sess *s, const uint8_t *buf, size_t len, int flood)
{
	struct stun_msg m;
	if (len < STUN_HDR_LEN || (buf[0] & 0xC0) != 0)
		return 0; /* ChannelData or junk: not ours */
	if (stun_msg_decode(&m, buf, len) != 0 || memcmp(m.tid, s->tid, STUN_TID_LEN) != 0)
		return 0;
	int code = 0;
	if (m.cls == STUN_CLASS_ERROR) {
		const struct stun_attr *ea = stun_msg_attr(&m, STUN_ATTR_ERROR_CODE);
		const char *reason;
		size_t rlen;
		if (!ea || stun_attr_error(ea, &code, &reason, &rlen) != 0)
			code = 0;
	} else if (m.cls != STUN_CLASS_SUCCESS) {
		return 0;
	}
	if (m.cls == STUN_CLASS_SUCCESS && s->st != ST_ALLOC_UNAUTH && have_key &&
	    stun_msg_check_integrity(&m, key, sizeof(key)) == EACCES) {
		sess_fail(s, "bad MESSAGE-INTEGRITY in a response", 0);
		return 1;
	}
	switch (s->st) {
	case ST_ALLOC_UNAUTH:
		if (code == 401) {
			take_nonce(s, &m);
			if (!have_key || !s->nonce_len) {
				sess_fail(s, "401 without REALM or NONCE", code);
				return 1;
			}
			s->st = ST_ALLOC_AUTH;
			build_req(s);
			return 0;
		}
		if (m.cls == STUN_CLASS_SUCCESS)
			break; /* a server without authentication */
		if (code == 437 && s->rebinds++ < 5)
			return 2; /* the 5-tuple is still taken on the server: another port */
		sess_fail(s, "Allocate:", code);
		return 1;
	case ST_ALLOC_AUTH:
	case ST_CHANBIND:
	case ST_REFRESH0:
		if (code == 438 && s->stale++ < 3) {
			take_nonce(s, &m);
			setup_stale++;
			build_req(s);
			return 0;
		}
		/* 437 to a retransmitted Allocate: the first one made it */
		if (s->st == ST_ALLOC_AUTH && code == 437 && s->tries > 1)
			break;
		if (s->st == ST_REFRESH0 && code == 437) {
			s->st = ST_CLOSED;
			return 1;
		}
		if (m.cls != STUN_CLASS_SUCCESS) {
			sess_fail(s,
			          s->st == ST_CHANBIND   ? "ChannelBind:"
			          : s->st == ST_REFRESH0 ? "Refresh:"
			                                 : "Allocate:",
			          code);
			return 1;
		}
		break;
	default:
		return 0;
	}
	/* success */
	if (s->st == ST_ALLOC_UNAUTH || s->st == ST_ALLOC_AUTH) {
		const struct stun_attr *ra = stun_msg_attr(&m, STUN_ATTR_XOR_RELAYED_ADDRESS);
		struct sockaddr_storage ss;
		if (ra && stun_attr_xor_addr(&m, ra, &ss) == 0 && ss.ss_family == AF_INET)
			memcpy(&s->relayed, &ss, sizeof(s->relayed));
		if (flood) {
			s->st = ST_CHANBIND;
			build_req(s);
			return 0;
		}
		s->st = ST_READY;
		return 1;
	}
	if (s->st == ST_CHANBIND) {
		s->st = ST_READY;
		return 1;
	}
	if (s->st == ST_REFRESH0) {
		s->st = ST_CLOSED;
		return 1;
	}
	return 0;
}

/* Drives sessions [0, n) from their start state to a final one with at most
 * o.window requests in flight; start == ST_ALLOC_UNAUTH or ST_REFRESH0.
 * Returns how many ended in `goal`. */
static int client_socket(void);

/* A new client socket (another local port) for a session, same request. */
static void rebind(struct sess *s, uint32_t idx)
{
	epoll_ctl(sess_ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = client_socket();
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = idx};
	if (epoll_ctl(sess_ep, EPOLL_CTL_ADD, s->fd, &ev) != 0)
		die("epoll_ctl");
	build_req(s);
}

static int run_sessions(int n, enum state start, enum state goal, int flood, double timeout)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	sess_ep = ep;
	if (ep < 0)
		die("epoll_create1");
	int next = 0, inflight = 0, done = 0, ok = 0;
	double end = now() + timeout, last_scan = now();
	uint8_t buf[4096];
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, sessions[i].fd, &ev) != 0)
			die("epoll_ctl");
	}
	while (done < n && now() < end) {
		while (inflight < o.window && next < n) {
			struct sess *s = &sessions[next++];
			if (start == ST_REFRESH0 && s->st != ST_READY) {
				done++;
				continue;
			}
			s->st = start;
			s->stale = 0;
			build_req(s);
			inflight++;
		}
		struct epoll_event evs[256];
		int k = epoll_wait(ep, evs, 256, 20);
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		for (int j = 0; j < k; j++) {
			struct sess *s = &sessions[evs[j].data.u32];
			for (int r = 0; r < 8; r++) {
				ssize_t len = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
				if (len < 0)
					break;
				if (s->st == goal || s->st == ST_FAILED || s->st == ST_CLOSED ||
				    s->st == ST_READY)
					continue;
				int r2 = on_response(s, buf, (size_t)len, flood);
				if (r2 == 2) {
					rebind(s, evs[j].data.u32);
					break;
				}
				if (r2) {
					inflight--;
					done++;
					ok += s->st == goal;
				}
			}
		}
		double t = now();
		if (t - last_scan >= 0.05) {
			last_scan = t;
			for (int i = 0; i < next; i++) {
				struct sess *s = &sessions[i];
				if (s->st != ST_ALLOC_UNAUTH && s->st != ST_ALLOC_AUTH &&
				    s->st != ST_CHANBIND && s->st != ST_REFRESH0)
					continue;
				if (t < s->deadline)
					continue;
				if (s->tries >= MAX_TRIES) {
					sess_fail(s, "no answer after retransmissions", 0);
					inflight--;
					done++;
					continue;
				}
				setup_retrans++;
				send_req(s);
			}
		}
	}
	close(ep);
	sess_ep = -1;
	return ok;
}

static int client_socket(void)
{
	int fd = udp_socket_bound(INADDR_LOOPBACK, o.client_lo, o.client_hi, &next_client_port);
	if (connect(fd, (struct sockaddr *)&o.server, sizeof(o.server)) != 0)
		die("connect");
	set_nonblock(fd);
	return fd;
}

static void open_sessions(int n)
{
	raise_nofile(n + MAX_SINKS + 64);
	sessions = calloc((size_t)n, sizeof(*sessions));
	if (!sessions)
		die("calloc");
	nsess = n;
	next_client_port = o.client_lo;
	for (int i = 0; i < n; i++) {
		struct sess *s = &sessions[i];
		s->fd = client_socket();
		s->chan = (uint16_t)(CHANNEL_FIRST + (i % 0x3FFF));
	}
}

static int release_sessions(void)
{
	int closed = run_sessions(nsess, ST_REFRESH0, ST_CLOSED, 0, 10);
	for (int i = 0; i < nsess; i++)
		close(sessions[i].fd);
	return closed;
}

/* ---- flood ---- */

struct sender {
	pthread_t th;
	int idx;
};

static void *sender_main(void *arg)
{
	struct sender *me = arg;
	int nf = 0;
	int *fds = calloc((size_t)nsess, sizeof(*fds));
	uint8_t *bufs = NULL;
	if (!fds)
		die("calloc");
	for (int i = me->idx; i < nsess; i += o.threads)
		fds[nf++] = i;
	size_t plen = 4 + (size_t)o.size;
	size_t stride = (plen + 3) & ~(size_t)3;
	bufs = calloc((size_t)nf, stride);
	if (!bufs)
		die("calloc");
	for (int f = 0; f < nf; f++) {
		uint8_t *p = bufs + (size_t)f * stride;
		struct sess *s = &sessions[fds[f]];
		p[0] = (uint8_t)(s->chan >> 8);
		p[1] = (uint8_t)s->chan;
		p[2] = (uint8_t)(o.size >> 8);
		p[3] = (uint8_t)o.size;
		for (int b = 4; b < (int)plen; b++)
			p[b] = (uint8_t)(b * 7 + f);
		/* blocking sends with a timeout: never stuck past it */
		struct timeval tv = {0, 100000};
		setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		int fl = fcntl(s->fd, F_GETFL);
		fcntl(s->fd, F_SETFL, fl & ~O_NONBLOCK);
		fds[f] = s->fd;
	}
	struct mmsghdr vec[BATCH];
	struct iovec iov[BATCH];
	memset(vec, 0, sizeof(vec));
	unsigned long long sent = 0, errs = 0;
	double credit = 0, last = now();
	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		double rate = atomic_load_explicit(&rate_now, memory_order_relaxed) / o.threads;
		if (rate > 0) {
			/* token bucket, at most 5 ms worth of burst */
			double t = now();
			credit += (t - last) * rate;
			last = t;
			double cap = rate * 0.005 > BATCH ? rate * 0.005 : BATCH;
			if (credit > cap)
				credit = cap;
			if (credit < BATCH) {
				/* sleep until a batch is due: 50 us .. 2 ms */
				double wait = (BATCH - credit) / rate;
				wait = wait < 50e-6 ? 50e-6 : wait > 2e-3 ? 2e-3 : wait;
				struct timespec ts = {0, (long)(wait * 1e9)};
				nanosleep(&ts, NULL);
				continue;
			}
		}
		for (int f = 0; f < nf; f++) {
			int want = BATCH;
			if (rate > 0) {
				if (credit < 1)
					break;
				want = credit < BATCH ? (int)credit : BATCH;
			}
			for (int b = 0; b < want; b++) {
				iov[b].iov_base = bufs + (size_t)f * stride;
				iov[b].iov_len = plen;
				vec[b].msg_hdr.msg_iov = &iov[b];
				vec[b].msg_hdr.msg_iovlen = 1;
			}
			int k = sendmmsg(fds[f], vec, (unsigned)want, 0);
			if (k > 0) {
				sent += (unsigned)k;
				credit -= k;
			} else {
				errs++;
			}
		}
		atomic_fetch_add_explicit(&tx_count, sent, memory_order_relaxed);
		atomic_fetch_add_explicit(&tx_errors, errs, memory_order_relaxed);
		sent = errs = 0;
	}
	free(bufs);
	free(fds);
	return NULL;
}

struct receiver {
	pthread_t th;
	int idx;
};

/* Points vec[0, n) at bufs, one buffer each, for recvmmsg. */
static void mmsg_init(struct mmsghdr *vec, struct iovec *iov, uint8_t (*bufs)[2048], int n)
{
	memset(vec, 0, sizeof(*vec) * (size_t)n);
	for (int b = 0; b < n; b++) {
		iov[b].iov_base = bufs[b];
		iov[b].iov_len = sizeof(bufs[b]);
		vec[b].msg_hdr.msg_iov = &iov[b];
		vec[b].msg_hdr.msg_iovlen = 1;
	}
}

/* Drains its sinks with recvmmsg; when a round brought less than a batch it
 * sleeps 200 us, so that a slow flow costs few system calls (a sink's 16 MiB
 * receive buffer holds far more than 200 us of traffic). */
static void *receiver_main(void *arg)
{
	struct receiver *me = arg;
	enum { RB = 64 };
	static _Thread_local uint8_t bufs[RB][2048];
	struct mmsghdr vec[RB];
	struct iovec iov[RB];
	mmsg_init(vec, iov, bufs, RB);
	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		unsigned long long got = 0;
		for (int i = me->idx; i < nsinks; i += o.rx_threads) {
			for (int r = 0; r < 64; r++) {
				int n = recvmmsg(sink_fd[i], vec, RB, MSG_DONTWAIT, NULL);
				if (n <= 0)
					break;
				got += (unsigned)n;
				if (n < RB)
					break;
			}
		}
		if (got)
			atomic_fetch_add_explicit(&rx_count, got, memory_order_relaxed);
		if (got < RB) {
			struct timespec ts = {0, 200000};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

struct snap {
	double t, srv_cpu, gen_cpu;
	unsigned long long rx, sink_drops, srv_drops, tx;
	long rss;
};

static double self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void take_snap(struct snap *s)
{
	s->t = now();
	s->rx = atomic_load(&rx_count);
	s->tx = atomic_load(&tx_count);
	s->srv_cpu = proc_cpu(o.pid);
	s->gen_cpu = self_cpu();
	s->sink_drops = udp_drops(o.sink_lo, o.sink_lo + MAX_SINKS - 1);
	int sp = ntohs(o.server.sin_port);
	s->srv_drops = udp_drops(sp, sp);
	s->rss = proc_rss_kib(o.pid);
}

/* Runs for `secs`, setting the senders' rate every 100 ms in auto mode:
 * while the relay keeps up (>= 90 % of what was sent arrives), the offered
 * rate doubles; once it does not, the offered rate is 1.25 times what arrived,
 * which keeps the server's input queue full without the generator burning
 * CPU on packets the server's socket would drop anyway. */
static void control(double secs)
{
	double end = now() + secs;
	static double t_prev;
	static unsigned long long rx_prev, tx_prev;
	if (!t_prev) {
		t_prev = now();
		rx_prev = atomic_load(&rx_count);
		tx_prev = atomic_load(&tx_count);
	}
	for (int i = 0; i < 36000000; i++) {
		double t = now();
		if (t >= end)
			break;
		sleep_s(end - t < 0.1 ? end - t : 0.1);
		if (o.rate >= 0)
			continue;
		t = now();
		unsigned long long rx = atomic_load(&rx_count), tx = atomic_load(&tx_count);
		double dt = t - t_prev;
		if (dt < 0.05)
			continue;
		double got = (double)(rx - rx_prev) / dt, sent = (double)(tx - tx_prev) / dt;
		double r = atomic_load(&rate_now);
		if (got >= 0.9 * sent && sent >= 0.5 * r)
			r *= 2;
		else if (got >= 0.9 * sent)
			; /* the senders did not reach the rate: keep it */
		else
			r = 1.25 * got;
		if (r < 1000)
			r = 1000;
		if (r > 1e8)
			r = 1e8;
		atomic_store(&rate_now, r);
		t_prev = t;
		rx_prev = rx;
		tx_prev = tx;
	}
}

/* Opens `n` peer sockets (sinks) on INADDR_ANY, ports from o.sink_lo, and
 * the sessions (o.flows), each with a peer of its own: the address
 * 127.1.0.0 + its client port, at sink i mod n. From the client port, not
 * from i, so that a run given fresh client ports has fresh peers too: coturn
 * --multiplex-peer holds a released allocation's peers for a moment and
 * answers a ChannelBind to one of them with 400. Then allocates and binds a
 * channel for each; returns how many got there, and the setup time. */
static int open_peers(int n, double *setup)
{
	nsinks = n;
	int cursor = o.sink_lo;
	for (int i = 0; i < nsinks; i++) {
		sink_fd[i] =
		    udp_socket_bound(INADDR_ANY, o.sink_lo, o.sink_lo + MAX_SINKS - 1, &cursor);
		int sz = 16 << 20;
		if (setsockopt(sink_fd[i], SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
			setsockopt(sink_fd[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		set_nonblock(sink_fd[i]);
	}
	open_sessions(o.flows);
	for (int i = 0; i < nsess; i++) {
		struct sockaddr_in a;
		socklen_t al = sizeof(a);
		struct sockaddr_in c;
		socklen_t cl = sizeof(c);
		if (getsockname(sink_fd[i % nsinks], (struct sockaddr *)&a, &al) != 0 ||
		    getsockname(sessions[i].fd, (struct sockaddr *)&c, &cl) != 0)
			die("getsockname");
		a.sin_addr.s_addr = htonl((127u << 24 | 1u << 16) + ntohs(c.sin_port));
		sessions[i].peer = a;
	}
	double t0 = now();
	int ready = run_sessions(nsess, ST_ALLOC_UNAUTH, ST_READY, 1, o.timeout);
	*setup = now() - t0;
	return ready;
}

static void close_peers(void)
{
	for (int i = 0; i < nsinks; i++)
		close(sink_fd[i]);
}

static int do_flood(void)
{
	if (o.size < 1 || o.size > MAX_PAYLOAD)
		fail("--size must be 1..1400");
	double setup;
	int ready = open_peers(o.sinks < o.flows ? o.sinks : o.flows, &setup);
	if (ready < nsess) {
		fprintf(stderr, "turnflood: only %d of %d flows set up\n", ready, nsess);
		release_sessions();
		return 2;
	}
	struct receiver rx[MAX_THREADS];
	struct sender tx[MAX_THREADS];
	atomic_store(&rate_now, o.rate < 0 ? 50000.0 : o.rate);
	for (int i = 0; i < o.rx_threads; i++) {
		rx[i].idx = i;
		if (pthread_create(&rx[i].th, NULL, receiver_main, &rx[i]) != 0)
			fail("pthread_create");
	}
	for (int i = 0; i < o.threads; i++) {
		tx[i].idx = i;
		if (pthread_create(&tx[i].th, NULL, sender_main, &tx[i]) != 0)
			fail("pthread_create");
	}
	struct snap a, b;
	control(o.warmup);
	take_snap(&a);
	control(o.duration);
	take_snap(&b);
	atomic_store(&stop_flag, 1);
	for (int i = 0; i < o.threads; i++)
		pthread_join(tx[i].th, NULL);
	for (int i = 0; i < o.rx_threads; i++)
		pthread_join(rx[i].th, NULL);
	int closed = release_sessions();
	close_peers();

	double dt = b.t - a.t;
	unsigned long long rx_n = b.rx - a.rx, sd = b.sink_drops - a.sink_drops;
	unsigned long long relayed = rx_n + sd, sent = b.tx - a.tx;
	double cpu = (a.srv_cpu >= 0 && b.srv_cpu >= 0) ? b.srv_cpu - a.srv_cpu : -1;
	printf("mode=flood flows=%d size=%d threads=%d sinks=%d rate=%s window_s=%.3f setup_s=%.3f "
	       "sent=%llu sent_pps=%.0f relayed=%llu relayed_pps=%.0f sink_read=%llu "
	       "sink_drops=%llu server_in_drops=%llu loss_pct=%.2f srv_cpu_s=%.3f "
	       "srv_cpu_util=%.3f srv_cpu_ns_per_pkt=%.0f gen_cpu_s=%.3f rss_kib=%ld "
	       "released=%d retrans=%llu send_errors=%llu\n",
	       o.flows, o.size, o.threads, nsinks,
	       o.rate < 0   ? "auto"
	       : o.rate > 0 ? "fixed"
	                    : "max",
	       dt, setup, sent, (double)sent / dt, relayed, (double)relayed / dt, rx_n, sd,
	       b.srv_drops - a.srv_drops,
	       sent ? 100.0 * (double)(sent - (relayed < sent ? relayed : sent)) / (double)sent
	            : 0.0,
	       cpu, cpu >= 0 ? cpu / dt : -1,
	       (cpu >= 0 && relayed) ? cpu * 1e9 / (double)relayed : -1, b.gen_cpu - a.gen_cpu,
	       b.rss, closed, setup_retrans, (unsigned long long)atomic_load(&tx_errors));
	return 0;
}

/* ---- calls ---- */

/* What a call's packet carries after the ChannelData header, echoed unchanged
 * by the peer: the call's index, a sequence number, the phase it was sent in
 * and the send time. */
enum { C_CALL = 0, C_SEQ = 4, C_PHASE = 8, C_TIME = 12, C_MIN = 20 };
enum { PH_WARMUP, PH_WINDOW, PH_STOP };
/* The generator's threads wake at most every TICK s and do what is due in a
 * batch: per-packet wake-ups cost the generator several times what the
 * packets do, CPU the server would not get on a small machine. A phone's
 * packets carry jitter of that order anyway. */
#define TICK          500e-6
#define RTT_BUCKET_US 50
#define RTT_BUCKETS   4000 /* 50 us each: 200 ms, the last one holds the rest */

static atomic_int phase;
static unsigned *call_tx, *call_rx; /* per call: window packets sent, echoed back */
static atomic_ullong peer_window;   /* window packets that reached the peer */
static unsigned long long rtt_hist[RTT_BUCKETS];
static double send_lag_max; /* the sender's worst lag behind its schedule, s */
static unsigned long long send_failed, send_skipped;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Packet g of the schedule is call g mod N's packet g / N: every call sends
 * every 1/pps s, the calls evenly spread over that period, as N independent
 * phones would. One send() each: each call is its own socket. A sender that
 * lost the CPU for more than one period skips what is older than that
 * instead of sending it in one burst, which no set of phones does and which
 * would overflow the server's socket for the generator's fault; the skipped
 * packets are counted (send_skipped), not sent, not lost. The sender runs
 * at nice -10 where it may (root): its work is bounded by the schedule, and
 * behind the generator's readers on a busy core it would skip. */
static void *call_sender(void *arg)
{
	(void)arg;
	setpriority(PRIO_PROCESS, (id_t)gettid(), -10);
	static uint8_t buf[4 + MAX_PAYLOAD];
	size_t plen = 4 + (size_t)o.size;
	for (size_t b = 0; b < plen; b++)
		buf[b] = (uint8_t)(b * 7);
	buf[2] = (uint8_t)(o.size >> 8);
	buf[3] = (uint8_t)o.size;
	double rate = (double)nsess * o.pps, start = now();
	unsigned long long g = 0;
	while (!atomic_load(&stop_flag)) {
		int ph = atomic_load(&phase);
		if (ph == PH_STOP)
			break;
		double t = now();
		unsigned long long due = (unsigned long long)((t - start) * rate);
		if (due > g && (double)(due - g) / rate > send_lag_max)
			send_lag_max = (double)(due - g) / rate;
		unsigned long long period = (unsigned long long)nsess;
		if (due > g + period) {
			send_skipped += due - period - g;
			g = due - period;
		}
		for (int k = 0; g < due && k < 4096; k++, g++) {
			uint32_t c = (uint32_t)(g % (unsigned)nsess),
			         seq = (uint32_t)(g / (unsigned)nsess);
			const struct sess *s = &sessions[c];
			uint64_t ns = now_ns();
			buf[0] = (uint8_t)(s->chan >> 8);
			buf[1] = (uint8_t)s->chan;
			memcpy(buf + 4 + C_CALL, &c, 4);
			memcpy(buf + 4 + C_SEQ, &seq, 4);
			buf[4 + C_PHASE] = (uint8_t)ph;
			memcpy(buf + 4 + C_TIME, &ns, 8);
			if (send(s->fd, buf, plen, MSG_DONTWAIT) != (ssize_t)plen)
				send_failed++;
			else if (ph == PH_WINDOW)
				call_tx[c]++;
		}
		if (g >= due) {
			double wait = start + (double)(g + 1) / rate - now();
			sleep_s(wait < TICK ? TICK : wait > 2e-3 ? 2e-3 : wait);
		}
	}
	return NULL;
}

/* The peers: every datagram goes back where it came from (the relayed
 * address), from the address it was sent to (IP_PKTINFO), in batches. */
static void *call_echo(void *arg)
{
	(void)arg;
	enum { EB = 64, CTL = CMSG_SPACE(sizeof(struct in_pktinfo)) };
	static uint8_t bufs[EB][2048];
	static union {
		struct cmsghdr align;
		char b[CTL];
	} ctl[EB];
	struct mmsghdr vec[EB];
	struct iovec iov[EB];
	struct sockaddr_in from[EB];
	struct pollfd pfd = {.fd = sink_fd[0], .events = POLLIN};
	while (!atomic_load(&stop_flag)) {
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		mmsg_init(vec, iov, bufs, EB);
		for (int b = 0; b < EB; b++) {
			vec[b].msg_hdr.msg_name = &from[b];
			vec[b].msg_hdr.msg_namelen = sizeof(from[b]);
			vec[b].msg_hdr.msg_control = ctl[b].b;
			vec[b].msg_hdr.msg_controllen = CTL;
		}
		int n = recvmmsg(sink_fd[0], vec, EB, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		unsigned long long win = 0;
		for (int b = 0; b < n; b++) {
			struct msghdr *h = &vec[b].msg_hdr;
			struct cmsghdr *cm = CMSG_FIRSTHDR(h);
			struct in_pktinfo pi = {0};
			if (cm && cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			if (vec[b].msg_len > C_PHASE && bufs[b][C_PHASE] == PH_WINDOW)
				win++;
			/* the reply's source: the peer address the relay sent to */
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			h->msg_controllen = CTL;
			cm = CMSG_FIRSTHDR(h);
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
			iov[b].iov_len = vec[b].msg_len;
		}
		atomic_fetch_add(&peer_window, win);
		for (int sent = 0, tries = 0; sent < n && tries < 8; tries++) {
			int k = sendmmsg(sink_fd[0], vec + sent, (unsigned)(n - sent), 0);
			if (k > 0)
				sent += k;
		}
		if (n < EB)
			sleep_s(TICK);
	}
	return NULL;
}

/* The calls' own sockets: echoes counted per call, with their round trip. */
static void *call_reader(void *arg)
{
	int ep = *(int *)arg;
	enum { RB = 16 };
	static uint8_t bufs[RB][2048];
	struct mmsghdr vec[RB];
	struct iovec iov[RB];
	mmsg_init(vec, iov, bufs, RB);
	while (!atomic_load(&stop_flag)) {
		struct epoll_event evs[1024];
		int k = epoll_wait(ep, evs, 1024, 20);
		if (k < 1024)
			sleep_s(TICK); /* let the echoes gather: fewer wake-ups */
		for (int j = 0; j < k; j++) {
			uint32_t idx = evs[j].data.u32;
			int n = recvmmsg(sessions[idx].fd, vec, RB, MSG_DONTWAIT, NULL);
			uint64_t t = now_ns();
			for (int b = 0; b < n; b++) {
				const uint8_t *p = bufs[b] + 4;
				uint32_t c;
				uint64_t sent;
				if (vec[b].msg_len < 4 + C_MIN || (bufs[b][0] & 0xC0) != 0x40)
					continue; /* not ChannelData */
				memcpy(&c, p + C_CALL, 4);
				if (c != idx || p[C_PHASE] != PH_WINDOW)
					continue;
				memcpy(&sent, p + C_TIME, 8);
				uint64_t us = t > sent ? (t - sent) / 1000 : 0;
				call_rx[idx]++;
				rtt_hist[us / RTT_BUCKET_US < RTT_BUCKETS ? us / RTT_BUCKET_US
				                                          : RTT_BUCKETS - 1]++;
			}
		}
	}
	return NULL;
}

/* The round trip under which a share `q` of the echoes came back, us. */
static double rtt_quantile(unsigned long long total, double q)
{
	unsigned long long want = (unsigned long long)((double)total * q), acc = 0;
	for (int i = 0; i < RTT_BUCKETS; i++) {
		acc += rtt_hist[i];
		if (acc > want)
			return (double)(i + 1) * RTT_BUCKET_US;
	}
	return -1;
}

static int do_calls(void)
{
	if (o.size < C_MIN || o.size > MAX_PAYLOAD)
		fail("--size must be 20..1400 in calls mode");
	double setup;
	int ready = open_peers(1, &setup);
	int on = 1;
	if (setsockopt(sink_fd[0], IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) != 0)
		die("IP_PKTINFO");
	if (ready < nsess) {
		/* a step the server could not set up is a result, not a failure */
		fprintf(stderr, "turnflood: only %d of %d calls set up\n", ready, nsess);
		int closed = release_sessions();
		close_peers();
		printf("mode=calls calls=%d setup_ok=0 ready=%d setup_s=%.3f loss_pct=100 "
		       "released=%d retrans=%llu\n",
		       nsess, ready, setup, closed, setup_retrans);
		return 0;
	}
	call_tx = calloc((size_t)nsess, sizeof(*call_tx));
	call_rx = calloc((size_t)nsess, sizeof(*call_rx));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (!call_tx || !call_rx || ep < 0)
		die("calls");
	for (int i = 0; i < nsess; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, sessions[i].fd, &ev) != 0)
			die("epoll_ctl");
	}
	pthread_t th[3];
	void *(*fn[3])(void *) = {call_echo, call_reader, call_sender};
	for (int i = 0; i < 3; i++)
		if (pthread_create(&th[i], NULL, fn[i], &ep) != 0)
			fail("pthread_create");
	struct snap a, b;
	sleep_s(o.warmup);
	take_snap(&a);
	unsigned long long gd0 = udp_drops(o.client_lo, o.client_hi);
	atomic_store(&phase, PH_WINDOW);
	sleep_s(o.duration);
	atomic_store(&phase, PH_STOP);
	take_snap(&b);
	unsigned long long gd1 = udp_drops(o.client_lo, o.client_hi);
	sleep_s(o.drain); /* the window's last echoes on their way back */
	atomic_store(&stop_flag, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	close(ep);
	int closed = release_sessions();
	close_peers();

	unsigned long long tx = 0, rx = 0, peer = atomic_load(&peer_window);
	int lossy = 0;
	double worst = 0;
	for (int i = 0; i < nsess; i++) {
		tx += call_tx[i];
		rx += call_rx[i];
		double l = call_tx[i] ? 1.0 - (double)call_rx[i] / call_tx[i] : 0;
		lossy += call_rx[i] < call_tx[i];
		worst = l > worst ? l : worst;
	}
	double dt = b.t - a.t;
	double cpu = (a.srv_cpu >= 0 && b.srv_cpu >= 0) ? b.srv_cpu - a.srv_cpu : -1;
	unsigned long long relayed = peer + rx; /* both ways through the relay */
	printf("mode=calls calls=%d setup_ok=1 ready=%d size=%d pps_per_call=%.0f window_s=%.3f "
	       "setup_s=%.3f sent=%llu peer_rx=%llu echoed=%llu loss_pct=%.4f fwd_loss_pct=%.4f "
	       "calls_with_loss=%d worst_call_loss_pct=%.2f rtt_p50_us=%.0f rtt_p99_us=%.0f "
	       "relayed_pps=%.0f srv_cpu_s=%.3f srv_cpu_util=%.3f srv_cpu_ns_per_pkt=%.0f "
	       "gen_cpu_s=%.3f gen_drops=%llu server_in_drops=%llu send_errors=%llu "
	       "send_skipped=%llu send_lag_max_ms=%.1f rss_kib=%ld released=%d retrans=%llu\n",
	       nsess, ready, o.size, o.pps, dt, setup, tx, peer, rx,
	       tx ? 100.0 * (double)(tx - (rx < tx ? rx : tx)) / (double)tx : 0.0,
	       tx ? 100.0 * (double)(tx - (peer < tx ? peer : tx)) / (double)tx : 0.0, lossy,
	       100 * worst, rtt_quantile(rx, 0.5), rtt_quantile(rx, 0.99), (double)relayed / dt,
	       cpu, cpu >= 0 ? cpu / dt : -1,
	       (cpu >= 0 && relayed) ? cpu * 1e9 / (double)relayed : -1, b.gen_cpu - a.gen_cpu,
	       (b.sink_drops - a.sink_drops) + (gd1 - gd0), b.srv_drops - a.srv_drops, send_failed,
	       send_skipped, send_lag_max * 1e3, b.rss, closed, setup_retrans);
	free(call_tx);
	free(call_rx);
	return 0;
}

/* ---- allocations ---- */

static int do_alloc(void)
{
	long rss0 = proc_rss_kib(o.pid);
	double cpu0 = proc_cpu(o.pid);
	open_sessions(o.flows);
	double t0 = now();
	int ok = run_sessions(nsess, ST_ALLOC_UNAUTH, ST_READY, 0, o.timeout);
	double dt = now() - t0;
	double cpu1 = proc_cpu(o.pid);
	long rss1 = proc_rss_kib(o.pid);
	sleep_s(o.hold);
	long rss2 = proc_rss_kib(o.pid);
	double t1 = now();
	int closed = release_sessions();
	double rdt = now() - t1;
	double cpu = (cpu0 >= 0 && cpu1 >= 0) ? cpu1 - cpu0 : -1;
	printf("mode=alloc count=%d ok=%d failed=%d elapsed_s=%.3f allocs_per_s=%.0f "
	       "srv_cpu_s=%.3f srv_cpu_us_per_alloc=%.1f rss_before_kib=%ld rss_after_kib=%ld "
	       "rss_held_kib=%ld released=%d release_s=%.3f retrans=%llu stale_nonce=%llu\n",
	       o.flows, ok, o.flows - ok, dt, ok / dt, cpu, (cpu >= 0 && ok) ? cpu * 1e6 / ok : -1,
	       rss0, rss1, rss2, closed, rdt, setup_retrans, setup_stale);
	return 0;
}

/* ---- options ---- */

static void usage(void)
{
	fprintf(stderr,
	        "usage: turnflood flood|calls|alloc [options]\n"
	        "  --server IP:PORT      TURN server over UDP (127.0.0.1:3478)\n"
	        "  --user U --pass P     long-term credentials (bench/bench)\n"
	        "  --flows N             flood: flows (client sockets); calls: calls;\n"
	        "                        alloc: allocations\n"
	        "  --count N             the same as --flows\n"
	        "  --size BYTES          flood, calls: payload the peer receives (172)\n"
	        "  --duration S          flood, calls: measured window (3)\n"
	        "  --warmup S            flood, calls: before the window (0.5)\n"
	        "  --pps N               calls: packets/s of one call, each way (50)\n"
	        "  --drain S             calls: wait for the window's echoes (0.5)\n"
	        "  --threads N           flood: sender threads (1)\n"
	        "  --rx-threads N        flood: sink reader threads (1)\n"
	        "  --rate auto|0|PPS     flood: offered packets/s in total; auto keeps 1.25 x\n"
	        "                        what arrives (saturating); 0 = as fast as possible\n"
	        "  --sinks N             flood: peer sink sockets, at most (8)\n"
	        "  --window N            requests in flight while allocating (256)\n"
	        "  --hold S              alloc: seconds to hold before reading RSS again (1)\n"
	        "  --timeout S           setup deadline (60)\n"
	        "  --pid PID             the server process: CPU and RSS from /proc\n"
	        "  --client-ports LO-HI  client sockets' local ports (20000-31999)\n"
	        "  --sink-port P         first sink port (19000)\n"
	        "  -v                    report every failed session\n");
	exit(2);
}

static double num(const char *s, double lo, double hi, const char *name)
{
	char *end;
	double v = strtod(s, &end);
	if (*s == 0 || *end != 0 || v < lo || v > hi) {
		fprintf(stderr, "turnflood: bad value for %s: %s\n", name, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	o.mode = argv[1];
	o.server.sin_family = AF_INET;
	o.server.sin_port = htons(3478);
	o.server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-v") == 0) {
			o.verbose = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (strcmp(a, "--server") == 0) {
			char host[64];
			unsigned port;
			if (sscanf(v, "%63[0-9.]:%u", host, &port) != 2 || port == 0 ||
			    port > 65535 || inet_pton(AF_INET, host, &o.server.sin_addr) != 1)
				fail("--server needs IPv4:PORT");
			o.server.sin_port = htons((uint16_t)port);
		} else if (strcmp(a, "--user") == 0) {
			o.user = v;
		} else if (strcmp(a, "--pass") == 0) {
			o.pass = v;
		} else if (strcmp(a, "--flows") == 0 || strcmp(a, "--count") == 0) {
			o.flows = (int)num(v, 1, MAX_FLOWS, a);
		} else if (strcmp(a, "--size") == 0) {
			o.size = (int)num(v, 1, MAX_PAYLOAD, a);
		} else if (strcmp(a, "--duration") == 0) {
			o.duration = num(v, 0.1, 3600, a);
		} else if (strcmp(a, "--warmup") == 0) {
			o.warmup = num(v, 0, 60, a);
		} else if (strcmp(a, "--hold") == 0) {
			o.hold = num(v, 0, 3600, a);
		} else if (strcmp(a, "--timeout") == 0) {
			o.timeout = num(v, 1, 3600, a);
		} else if (strcmp(a, "--threads") == 0) {
			o.threads = (int)num(v, 1, MAX_THREADS, a);
		} else if (strcmp(a, "--rx-threads") == 0) {
			o.rx_threads = (int)num(v, 1, MAX_THREADS, a);
		} else if (strcmp(a, "--sinks") == 0) {
			o.sinks = (int)num(v, 1, MAX_SINKS, a);
		} else if (strcmp(a, "--window") == 0) {
			o.window = (int)num(v, 1, MAX_FLOWS, a);
		} else if (strcmp(a, "--rate") == 0) {
			o.rate = strcmp(v, "auto") == 0 ? -1 : num(v, 0, 1e9, a);
		} else if (strcmp(a, "--pps") == 0) {
			o.pps = num(v, 1, 10000, a);
		} else if (strcmp(a, "--drain") == 0) {
			o.drain = num(v, 0, 60, a);
		} else if (strcmp(a, "--pid") == 0) {
			o.pid = (int)num(v, 1, 1 << 30, a);
		} else if (strcmp(a, "--client-ports") == 0) {
			if (sscanf(v, "%d-%d", &o.client_lo, &o.client_hi) != 2 ||
			    o.client_lo < 1024 || o.client_hi > 65535 || o.client_lo > o.client_hi)
				fail("--client-ports needs LO-HI");
		} else if (strcmp(a, "--sink-port") == 0) {
			o.sink_lo = (int)num(v, 1024, 65535 - MAX_SINKS, a);
		} else {
			usage();
		}
	}
	if (o.client_hi - o.client_lo + 1 < o.flows)
		fail("the client port range is smaller than the number of flows");
	if (strcmp(o.mode, "flood") == 0)
		return do_flood();
	if (strcmp(o.mode, "calls") == 0)
		return do_calls();
	if (strcmp(o.mode, "alloc") == 0)
		return do_alloc();
	usage();
	return 2;
}
