/* Unit tests of sipfront/resolve.h, and of sipfront/dns.h (the same lookup
 * on an event loop, through c-ares: the same answers and errors, and the
 * loop free while a server is silent; each failure's reason, SERVFAIL and
 * NOTIMP from a fake server on a thread; a HOST's A and AAAA records and
 * the hosts file), against a real DNS server: dnsmasq on
 * 127.0.0.1 (and ::1 when the host has it) on a free high port, started
 * once for the group and killed in its teardown (and by PR_SET_PDEATHSIG
 * if this process dies first). Without dnsmasq the test fails as root
 * (the CI installs dnsmasq-base) and skips (77) otherwise. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipfront/dns.h"
#include "sipfront/resolve.h"

#define READY_MS 5000 /* dnsmasq starts in milliseconds; this bounds a hang */

static struct {
	char exe[256];
	char dir[64];
	pid_t pid;
	uint16_t port;
	bool v6; /* ::1 usable: dnsmasq listens there too */
} dns;

static bool dnsmasq_find(char *buf, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[1024];
	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, len, "%s/dnsmasq", d);
		if (access(buf, X_OK) == 0)
			return true;
	}
	return false;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000L + (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

static void sa_loopback(struct sockaddr_storage *ss, int family, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
	}
}

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* A socket bound to a kernel-chosen loopback port; its port in *port. */
static int bound_socket(int family, int type, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = socket(family, type, 0);
	sa_loopback(&ss, family, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sa_len(&ss)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port); /* same offset in sin6 */
	return fd;
}

/* A port free for TCP and UDP now; dnsmasq may still lose a race for it,
 * hence the caller's retries. */
static uint16_t free_port(void)
{
	uint16_t port = 0, udp_port;
	int tcp = bound_socket(AF_INET, SOCK_STREAM, &port), udp;
	struct sockaddr_storage ss;
	if (tcp < 0)
		return 0;
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	sa_loopback(&ss, AF_INET, port);
	udp_port = udp >= 0 && bind(udp, (struct sockaddr *)&ss, sa_len(&ss)) == 0 ? port : 0;
	close(tcp);
	if (udp >= 0)
		close(udp);
	return udp_port;
}

static void dnsmasq_exec(void)
{
	char port[16], pidfile[128], log[128];
	snprintf(port, sizeof(port), "--port=%u", (unsigned)dns.port);
	snprintf(pidfile, sizeof(pidfile), "--pid-file=%s/dnsmasq.pid", dns.dir);
	snprintf(log, sizeof(log), "%s/dnsmasq.log", dns.dir);
	const char *argv[] = {
	    dns.exe, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
	    "--log-facility=-", port, pidfile, "--bind-interfaces", "--listen-address=127.0.0.1",
	    "--local=/example/",
	    /* Listed out of order: the resolver must sort them. */
	    "--srv-host=_sipfederationtls._tcp.partner.example,sip2.partner.example,5062,20,10",
	    "--srv-host=_sipfederationtls._tcp.partner.example,sip3.partner.example,5063,10,5",
	    "--srv-host=_sipfederationtls._tcp.partner.example,sip.partner.example,5061,10,50",
	    "--host-record=sip.partner.example,127.0.0.10",
	    "--host-record=sip2.partner.example,fd00::10",
	    "--host-record=sip3.partner.example,127.0.0.11,fd00::11",
	    "--srv-host=_sipfederationtls._tcp.dual.example,edge.dual.example,5061,0,0",
	    "--host-record=edge.dual.example,127.0.0.12,fd00::12",
	    "--host-record=nosrv.example,127.0.0.20",         /* a host, but no SRV */
	    "--srv-host=_sipfederationtls._tcp.none.example", /* target ".": no service */
	    "--srv-host=_sipfederationtls._tcp.noaddr.example,ghost.noaddr.example,5061",
	    dns.v6 ? "--listen-address=::1" : NULL, geteuid() == 0 ? "--user=root" : NULL, NULL};
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600), null = open("/dev/null", O_RDONLY);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	execv(dns.exe, (char *const *)argv);
	_exit(127);
}

/* Ready when its TCP socket accepts (it binds UDP first); bounded. */
static bool dnsmasq_ready(void)
{
	struct timespec t0;
	struct sockaddr_storage ss;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sa_loopback(&ss, AF_INET, dns.port);
	while (ms_since(&t0) < READY_MS) {
		int status, fd = socket(AF_INET, SOCK_STREAM, 0);
		bool up = fd >= 0 && connect(fd, (struct sockaddr *)&ss, sa_len(&ss)) == 0;
		if (fd >= 0)
			close(fd);
		if (up)
			return true;
		if (waitpid(dns.pid, &status, WNOHANG) == dns.pid) {
			dns.pid = 0;
			return false;
		}
		nanosleep(&(struct timespec){0, 20 * 1000000L}, NULL);
	}
	return false;
}

static void dnsmasq_kill(void)
{
	if (dns.pid > 0) {
		kill(dns.pid, SIGTERM);
		waitpid(dns.pid, NULL, 0);
		dns.pid = 0;
	}
}

static void dnsmasq_print_log(void)
{
	char path[128], line[512];
	snprintf(path, sizeof(path), "%s/dnsmasq.log", dns.dir);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "dnsmasq: %s", line);
	if (f)
		fclose(f);
}

static void dir_remove(void)
{
	char path[128];
	static const char *const files[] = {"dnsmasq.pid", "dnsmasq.log"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dns.dir, files[i]);
		unlink(path);
	}
	rmdir(dns.dir);
}

static int dns_start(void **state)
{
	uint16_t unused;
	int fd6 = bound_socket(AF_INET6, SOCK_DGRAM, &unused);
	(void)state;
	dns.v6 = fd6 >= 0;
	if (fd6 >= 0)
		close(fd6);
	snprintf(dns.dir, sizeof(dns.dir), "/tmp/test_sip_resolve.XXXXXX");
	if (!mkdtemp(dns.dir))
		return -1;
	for (int attempt = 0; attempt < 3; attempt++) {
		dns.port = free_port();
		dns.pid = dns.port ? fork() : -1;
		if (dns.pid == 0)
			dnsmasq_exec();
		if (dns.pid > 0 && dnsmasq_ready())
			return 0;
		dnsmasq_kill();
	}
	fprintf(stderr, "dnsmasq did not start on 127.0.0.1:%u\n", (unsigned)dns.port);
	dnsmasq_print_log();
	dir_remove();
	return -1;
}

static int dns_stop(void **state)
{
	(void)state;
	dnsmasq_kill();
	dir_remove();
	return 0;
}

/* "127.0.0.10:5061" or "[fd00::11]:5063" */
static const char *target_str(const struct sip_target *t, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	if (t->addr.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&t->addr;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s %s:%u", t->host, ip, (unsigned)ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&t->addr;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s [%s]:%u", t->host, ip, (unsigned)ntohs(sin6->sin6_port));
	}
	return buf;
}

static int resolve_at(int family, uint16_t port, const char *domain, struct sip_target *out,
                      size_t max, size_t *n, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	sa_loopback(&ss, family, port);
	return sip_resolve_partner((struct sockaddr *)&ss, domain, out, max, n, err, err_len);
}

static void expect_targets(const struct sip_target *t, size_t n, const char *const *want,
                           size_t n_want)
{
	char buf[320];
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(target_str(&t[i], buf, sizeof(buf)), want[i]);
}

/* Priority up, then weight down; A before AAAA within a target. */
static void test_sip_resolve_srv_order(void **state)
{
	static const char *const want[] = {
	    "sip.partner.example 127.0.0.10:5061", "sip3.partner.example 127.0.0.11:5063",
	    "sip3.partner.example [fd00::11]:5063", "sip2.partner.example [fd00::10]:5062"};
	struct sip_target t[SIP_RESOLVE_MAX];
	char err[256];
	size_t n = 99;
	(void)state;
	assert_int_equal(resolve_at(AF_INET, dns.port, "partner.example", t, SIP_RESOLVE_MAX, &n,
	                            err, sizeof(err)),
	                 0);
	assert_string_equal(err, "");
	expect_targets(t, n, want, 4);
	/* max bounds the list, best first. */
	assert_int_equal(
	    resolve_at(AF_INET, dns.port, "partner.example", t, 2, &n, err, sizeof(err)), 0);
	expect_targets(t, n, want, 2);
}

/* A and AAAA of one target; also through an IPv6 DNS server. */
static void test_sip_resolve_a_and_aaaa(void **state)
{
	static const char *const want[] = {"edge.dual.example 127.0.0.12:5061",
	                                   "edge.dual.example [fd00::12]:5061"};
	struct sip_target t[4];
	char err[256];
	size_t n = 0;
	(void)state;
	assert_int_equal(resolve_at(AF_INET, dns.port, "dual.example", t, 4, &n, err, sizeof(err)),
	                 0);
	expect_targets(t, n, want, 2);
	if (!dns.v6) {
		fprintf(stderr, "no ::1 here: the IPv6 DNS server case is not run\n");
		return;
	}
	n = 0;
	assert_int_equal(resolve_at(AF_INET6, dns.port, "dual.example", t, 4, &n, err, sizeof(err)),
	                 0);
	expect_targets(t, n, want, 2);
}

static void expect_error(int family, uint16_t port, const char *domain, int rc, const char *needle)
{
	struct sip_target t[2];
	char err[600] = "unchanged";
	size_t n = 99;
	assert_int_equal(resolve_at(family, port, domain, t, 2, &n, err, sizeof(err)), rc);
	assert_int_equal(n, 0);
	if (!strstr(err, needle))
		fail_msg("%s: err \"%s\" lacks \"%s\"", domain, err, needle);
}

static void test_sip_resolve_no_srv(void **state)
{
	(void)state;
	expect_error(AF_INET, dns.port, "nosrv.example", ENOENT,
	             "SRV _sipfederationtls._tcp.nosrv.example: no such name");
	expect_error(AF_INET, dns.port, "absent.example", ENOENT,
	             "_sipfederationtls._tcp.absent.example");
	expect_error(AF_INET, dns.port, "none.example", ENOENT, "the service is not available");
	expect_error(AF_INET, dns.port, "noaddr.example", ENOENT,
	             "no A or AAAA record for ghost.noaddr.example");
}

/* dnsmasq refuses names outside the zones it knows (no upstream). */
static void test_sip_resolve_refused(void **state)
{
	(void)state;
	expect_error(AF_INET, dns.port, "partner.invalid", EIO, "answered REFUSED");
}

/* A bound socket that never reads: each of the two tries waits 1 s. A
 * closed port answers at once with ICMP port unreachable. */
static void test_sip_resolve_timeout(void **state)
{
	struct timespec t0;
	uint16_t port;
	int silent = bound_socket(AF_INET, SOCK_DGRAM, &port);
	(void)state;
	assert_true(silent >= 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_error(AF_INET, port, "partner.example", ETIMEDOUT, "no answer from 127.0.0.1:");
	long ms = ms_since(&t0);
	close(silent);
	if (ms < 1500 || ms > 3500)
		fail_msg("timed out after %ld ms, not about 2 s", ms);
	port = free_port();
	assert_true(port != 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_error(AF_INET, port, "partner.example", ETIMEDOUT, "port unreachable");
	assert_true(ms_since(&t0) < 3500);
}

static void test_sip_resolve_bad_names(void **state)
{
	static const char *const bad[] = {"",           "a..example", ".example",    "example.",
	                                  "-a.example", "a-.example", "a_b.example", "a b.example",
	                                  "a.example\n"};
	char long_name[300];
	struct sip_target t[2];
	struct sockaddr_storage unix_ss = {.ss_family = AF_UNIX};
	size_t n;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(AF_INET, dns.port, bad[i], EINVAL, "not a host name");
	/* 231 characters: a host name, but 23 more for the SRV prefix pass 253. */
	memset(long_name, 'a', sizeof(long_name));
	for (size_t i = 63; i < 192; i += 64)
		long_name[i] = '.';
	snprintf(long_name + 223, sizeof(long_name) - 223, ".example");
	expect_error(AF_INET, dns.port, long_name, EINVAL, "too long");
	snprintf(long_name + 222, sizeof(long_name) - 222, ".example"); /* 230: the limit */
	expect_error(AF_INET, dns.port, long_name, ENOENT, "no such name");
	memset(long_name, 'a', sizeof(long_name));
	long_name[sizeof(long_name) - 1] = '\0';
	expect_error(AF_INET, dns.port, long_name, EINVAL, "too long");
	assert_int_equal(sip_resolve_partner(NULL, NULL, t, 2, &n, NULL, 0), EINVAL);
	assert_int_equal(sip_resolve_partner(NULL, "partner.example", t, 0, &n, NULL, 0), EINVAL);
	assert_int_equal(
	    sip_resolve_partner((struct sockaddr *)&unix_ss, "partner.example", t, 2, &n, NULL, 0),
	    EINVAL);
}

/* ---- sipfront/dns.h: the same lookup, on an event loop ---- */

struct async_result {
	bool called;
	int calls, rc;
	enum sip_dns_reason reason;
	struct sip_target t[SIP_RESOLVE_MAX];
	size_t n;
	char err[600];
	struct event_base *base;
};

static void async_done(const struct sip_dns_answer *a, void *arg)
{
	struct async_result *r = arg;
	r->called = true;
	r->calls++;
	r->rc = a->rc;
	r->reason = a->reason;
	r->n = a->n;
	memcpy(r->t, a->t, a->n * sizeof(*a->t));
	snprintf(r->err, sizeof(r->err), "%s", a->err);
	event_base_loopbreak(r->base);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(*(unsigned *)arg)++;
}

/* The lookup of domain (or, with host_port, of the host domain) at
 * family/port on a fresh base, the loop run until its callback (10 s at
 * most); *ticks counts a 10 ms timer's firings meanwhile, the other work of
 * a loop that the lookup must not hold up. */
static void lookup_async(int family, uint16_t port, const char *domain, uint16_t host_port,
                         struct async_result *r, unsigned *ticks)
{
	struct sockaddr_storage ss;
	struct sip_dns *d;
	char err[256];
	unsigned dummy = 0;
	memset(r, 0, sizeof(*r));
	sa_loopback(&ss, family, port);
	r->base = event_base_new();
	assert_non_null(r->base);
	assert_int_equal(sip_dns_open(&d, r->base, (struct sockaddr *)&ss, err, sizeof(err)), 0);
	struct event *t = event_new(r->base, -1, EV_PERSIST, tick, ticks ? ticks : &dummy);
	assert_int_equal(event_add(t, &(struct timeval){0, 10000}), 0);
	if (host_port)
		assert_int_equal(sip_dns_host(d, domain, host_port, async_done, r, NULL), 0);
	else
		assert_int_equal(sip_dns_partner(d, domain, async_done, r, NULL), 0);
	assert_false(r->called); /* never from inside the call */
	event_base_loopexit(r->base, &(struct timeval){10, 0});
	event_base_dispatch(r->base);
	event_free(t);
	sip_dns_close(d);
	event_base_free(r->base);
	assert_true(r->called);
	assert_int_equal(r->calls, 1);
}

static void resolve_async(int family, uint16_t port, const char *domain, struct async_result *r,
                          unsigned *ticks)
{
	lookup_async(family, port, domain, 0, r, ticks);
}

/* Every case of the blocking tests: the same code, targets and words. */
static void test_sip_dns_as_blocking(void **state)
{
	static const char *const domains[] = {"partner.example", "dual.example", "nosrv.example",
	                                      "absent.example",  "none.example", "noaddr.example",
	                                      "partner.invalid"};
	char a[320], b[320], long_name[300];
	(void)state;
	/* 230 characters, the longest: the error names it whole. */
	memset(long_name, 'a', sizeof(long_name));
	for (size_t i = 63; i < 192; i += 64)
		long_name[i] = '.';
	snprintf(long_name + 222, sizeof(long_name) - 222, ".example");
	for (size_t i = 0; i <= sizeof(domains) / sizeof(domains[0]); i++) {
		const char *domain =
		    i < sizeof(domains) / sizeof(domains[0]) ? domains[i] : long_name;
		struct sip_target t[SIP_RESOLVE_MAX];
		char err[600];
		size_t n = 0;
		struct async_result r;
		int rc =
		    resolve_at(AF_INET, dns.port, domain, t, SIP_RESOLVE_MAX, &n, err, sizeof(err));
		resolve_async(AF_INET, dns.port, domain, &r, NULL);
		if (r.rc != rc || strcmp(r.err, err) != 0 || r.n != n)
			fail_msg("%s: async %d \"%s\" (%zu targets), blocking %d \"%s\" (%zu)",
			         domain, r.rc, r.err, r.n, rc, err, n);
		for (size_t k = 0; k < n; k++)
			assert_string_equal(target_str(&r.t[k], a, sizeof(a)),
			                    target_str(&t[k], b, sizeof(b)));
	}
}

/* A server that never answers: ETIMEDOUT after the two tries, and all the
 * while the loop goes on (a blocking lookup would let no tick through). */
static void test_sip_dns_silent_server(void **state)
{
	uint16_t port;
	unsigned ticks = 0;
	struct async_result r;
	int silent = bound_socket(AF_INET, SOCK_DGRAM, &port);
	(void)state;
	assert_true(silent >= 0);
	resolve_async(AF_INET, port, "partner.example", &r, &ticks);
	close(silent);
	assert_int_equal(r.rc, ETIMEDOUT);
	assert_string_equal(sip_dns_reason_word(r.reason), "timeout");
	if (!strstr(r.err, "no answer from 127.0.0.1:"))
		fail_msg("err \"%s\"", r.err);
	if (ticks < 10)
		fail_msg("the loop ran its timer %u times while the lookup waited", ticks);
}

static void never(const struct sip_dns_answer *a, void *arg)
{
	(void)a;
	*(bool *)arg = true;
}

/* Each failure's reason: the word a lab driver reads in a flow's record. */
static void test_sip_dns_reasons(void **state)
{
	static const struct {
		const char *domain, *word;
	} cases[] = {
	    {"partner.example", "ok"},     {"absent.example", "nxdomain"},
	    {"nosrv.example", "nxdomain"}, {"none.example", "nodata"},
	    {"noaddr.example", "nodata"},  {"partner.invalid", "refused"},
	};
	struct async_result r;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		resolve_async(AF_INET, dns.port, cases[i].domain, &r, NULL);
		if (strcmp(sip_dns_reason_word(r.reason), cases[i].word) != 0)
			fail_msg("%s: reason %s, not %s (%s)", cases[i].domain,
			         sip_dns_reason_word(r.reason), cases[i].word, r.err);
	}
	/* A closed port: ICMP port unreachable, told as no answer. */
	uint16_t port = free_port();
	assert_true(port != 0);
	resolve_async(AF_INET, port, "partner.example", &r, NULL);
	assert_int_equal(r.rc, ETIMEDOUT);
	assert_string_equal(sip_dns_reason_word(r.reason), "timeout");
}

/* A server that answers every query with one RCODE (on a thread of its
 * own, as the lookup's loop is the test's). */
struct rcode_server {
	int fd, rcode;
	uint16_t port;
	volatile bool stop;
	pthread_t thread;
};

static void *rcode_serve(void *arg)
{
	struct rcode_server *rs = arg;
	uint8_t q[512];
	struct sockaddr_storage from;
	while (!rs->stop) {
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(rs->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &len);
		size_t end = 12;
		while (n > 12 && end < (size_t)n && q[end] != 0)
			end += q[end] + 1u;
		if (n <= 12 || end + 5 > (size_t)n)
			continue;
		/* The question echoed, QR and RA set, nothing else. */
		q[2] = 0x81;
		q[3] = (uint8_t)(0x80 | rs->rcode);
		memset(q + 6, 0, 6);
		sendto(rs->fd, q, end + 5, 0, (struct sockaddr *)&from, len);
	}
	return NULL;
}

static void rcode_start(struct rcode_server *rs, int rcode)
{
	struct timeval tv = {0, 100000};
	memset(rs, 0, sizeof(*rs));
	rs->rcode = rcode;
	rs->fd = bound_socket(AF_INET, SOCK_DGRAM, &rs->port);
	assert_true(rs->fd >= 0);
	assert_int_equal(setsockopt(rs->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(pthread_create(&rs->thread, NULL, rcode_serve, rs), 0);
}

static void rcode_stop(struct rcode_server *rs)
{
	rs->stop = true;
	pthread_join(rs->thread, NULL);
	close(rs->fd);
}

/* SERVFAIL and NOTIMP from the server: EIO, each with its own reason. */
static void test_sip_dns_server_errors(void **state)
{
	static const struct {
		int rcode;
		const char *word, *said;
	} cases[] = {{2, "servfail", "answered SERVFAIL"}, {4, "bad-answer", "answered NOTIMP"}};
	struct rcode_server rs;
	struct async_result r;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rcode_start(&rs, cases[i].rcode);
		resolve_async(AF_INET, rs.port, "partner.example", &r, NULL);
		rcode_stop(&rs);
		assert_int_equal(r.rc, EIO);
		assert_string_equal(sip_dns_reason_word(r.reason), cases[i].word);
		if (!strstr(r.err, cases[i].said))
			fail_msg("err \"%s\" lacks \"%s\"", r.err, cases[i].said);
	}
}

/* Whether /etc/hosts maps localhost to 127.0.0.1 (nearly everywhere). */
static bool hosts_has_localhost(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/etc/hosts", "r");
	while (f && !found && fgets(line, sizeof(line), f))
		found = strncmp(line, "127.0.0.1", 9) == 0 && strstr(line, " localhost") != NULL;
	if (f)
		fclose(f);
	return found;
}

/* A partner's HOST: its A then AAAA records, with the port given; the
 * hosts file first; a missing name is told as such. */
static void test_sip_dns_host(void **state)
{
	static const char *const dual[] = {"edge.dual.example 127.0.0.12:5070",
	                                   "edge.dual.example [fd00::12]:5070"};
	static const char *const v6[] = {"sip2.partner.example [fd00::10]:5070"};
	struct async_result r;
	char buf[320];
	bool called = false;
	(void)state;
	lookup_async(AF_INET, dns.port, "edge.dual.example", 5070, &r, NULL);
	assert_int_equal(r.rc, 0);
	expect_targets(r.t, r.n, dual, 2);
	lookup_async(AF_INET, dns.port, "sip2.partner.example", 5070, &r, NULL);
	expect_targets(r.t, r.n, v6, 1);
	lookup_async(AF_INET, dns.port, "ghost.example", 5061, &r, NULL);
	assert_int_equal(r.rc, ENOENT);
	assert_string_equal(sip_dns_reason_word(r.reason), "nxdomain");
	if (!strstr(r.err, "ghost.example: no such name (NXDOMAIN from 127.0.0.1:"))
		fail_msg("err \"%s\"", r.err);
	if (hosts_has_localhost()) {
		/* dnsmasq knows no localhost (--no-hosts): the answer is the file's. */
		lookup_async(AF_INET, dns.port, "localhost", 5061, &r, NULL);
		assert_int_equal(r.rc, 0);
		assert_string_equal(target_str(&r.t[0], buf, sizeof(buf)),
		                    "localhost 127.0.0.1:5061");
	}
	assert_int_equal(sip_dns_host(NULL, "a.example", 5061, never, &called, NULL), EINVAL);
	assert_false(called);
}

/* A cancelled lookup calls nobody; closing with lookups under way frees
 * them (the sanitizers see a leak or a late callback). */
static void test_sip_dns_cancel_and_close(void **state)
{
	struct sockaddr_storage ss;
	struct sip_dns *d;
	struct sip_dns_lookup *l;
	bool called = false;
	char err[256];
	uint16_t port;
	int silent = bound_socket(AF_INET, SOCK_DGRAM, &port);
	(void)state;
	struct event_base *base = event_base_new();
	assert_non_null(base);
	sa_loopback(&ss, AF_INET, dns.port);
	assert_int_equal(sip_dns_open(&d, base, (struct sockaddr *)&ss, err, sizeof(err)), 0);
	assert_int_equal(sip_dns_partner(d, "partner.example", never, &called, &l), 0);
	sip_dns_cancel(l);
	event_base_loopexit(base, &(struct timeval){1, 0});
	event_base_dispatch(base);
	assert_false(called);
	sip_dns_close(d);
	/* Closed mid-lookup, against a server that does not answer. */
	sa_loopback(&ss, AF_INET, port);
	assert_int_equal(sip_dns_open(&d, base, (struct sockaddr *)&ss, err, sizeof(err)), 0);
	assert_int_equal(sip_dns_partner(d, "partner.example", never, &called, NULL), 0);
	assert_int_equal(sip_dns_partner(d, "dual.example", never, &called, NULL), 0);
	event_base_loopexit(base, &(struct timeval){0, 200000});
	event_base_dispatch(base);
	sip_dns_close(d);
	event_base_loopexit(base, &(struct timeval){0, 100000});
	event_base_dispatch(base);
	assert_false(called);
	assert_int_equal(sip_dns_partner(NULL, "partner.example", never, &called, NULL), EINVAL);
	event_base_free(base);
	close(silent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sip_resolve_srv_order),
	    cmocka_unit_test(test_sip_resolve_a_and_aaaa),
	    cmocka_unit_test(test_sip_resolve_no_srv),
	    cmocka_unit_test(test_sip_resolve_refused),
	    cmocka_unit_test(test_sip_resolve_timeout),
	    cmocka_unit_test(test_sip_resolve_bad_names),
	    cmocka_unit_test(test_sip_dns_as_blocking),
	    cmocka_unit_test(test_sip_dns_silent_server),
	    cmocka_unit_test(test_sip_dns_reasons),
	    cmocka_unit_test(test_sip_dns_server_errors),
	    cmocka_unit_test(test_sip_dns_host),
	    cmocka_unit_test(test_sip_dns_cancel_and_close),
	};
	if (!dnsmasq_find(dns.exe, sizeof(dns.exe))) {
		if (geteuid() == 0) {
			fprintf(stderr, "FAIL: dnsmasq not found (install dnsmasq-base)\n");
			return 1;
		}
		fprintf(stderr, "SKIP: dnsmasq not found (install dnsmasq-base)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, dns_start, dns_stop);
}
