/* libFuzzer target for the Binding service. The first input byte picks the
 * addresses (bit 0: IPv4 or IPv6; bits 3-7 vary address and port) and the
 * SOFTWARE option (bits 1-2); the rest is the request, as received. Every
 * reply must fit BINDING_REPLY_MAX, decode, echo the transaction id and say
 * what the outcome says; a drop must say it was one. The reply is built
 * twice, into a roomy buffer and into an exact BINDING_REPLY_MAX heap
 * buffer (ASan sees any write past it), and both must agree. Invariants are
 * checked with abort(). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "relay/binding.h"
#include "tests/fuzz/fuzz.h"



struct fuzz_env {
	struct sockaddr_storage src, local;
	struct binding_opts opts;
};

static void fuzz_env_init(struct fuzz_env *env, uint8_t pick)
{
	/* NULL, empty, usual and CONF_SOFTWARE_MAX (32) characters */
	static const char *const software[] = {NULL, "", "edgelab",
	                                       "edgelab-0123456789-0123456789-01"};
	uint16_t port = (uint16_t)(1024 + (pick >> 3) * 1999);

	memset(env, 0, sizeof(*env));
	env->opts.software = software[(pick >> 1) & 3];
	if (pick & 1) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&env->src;
		struct sockaddr_in6 *l = (struct sockaddr_in6 *)&env->local;

		s->sin6_family = l->sin6_family = AF_INET6;
		FUZZ_CHECK(inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6600",
		                     &s->sin6_addr) == 1);
		FUZZ_CHECK(inet_pton(AF_INET6, "2001:db8::3478", &l->sin6_addr) == 1);
		s->sin6_addr.s6_addr[15] = pick;
		s->sin6_port = htons(port);
		l->sin6_port = htons(3478);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)&env->src;
		struct sockaddr_in *l = (struct sockaddr_in *)&env->local;

		s->sin_family = l->sin_family = AF_INET;
		s->sin_addr.s_addr = htonl(0xC0000200u | pick); /* 192.0.2.x */
		l->sin_addr.s_addr = htonl(0xCB007101u);        /* 203.0.113.1 */
		s->sin_port = htons(port);
		l->sin_port = htons(3478);
	}
}

static void fuzz_check_addr(const struct stun_msg *msg, uint16_t type, bool xored,
                            const struct sockaddr_storage *want)
{
	const struct stun_attr *a = stun_msg_attr(msg, type);
	struct sockaddr_storage got;

	FUZZ_CHECK(a != NULL);
	FUZZ_CHECK((xored ? stun_attr_xor_addr(msg, a, &got) : stun_attr_addr(a, &got)) == 0);
	FUZZ_CHECK(addr_equal((const struct sockaddr *)&got, (const struct sockaddr *)want));
}

/* A success carries the source address (and, in classic, ours); an error
 * keeps the request's method and gives the code the outcome names. */
static void fuzz_check_body(const struct stun_msg *rep, const uint8_t *req,
                            const struct fuzz_env *env, const struct binding_outcome *oc)
{
	const struct stun_attr *a;
	int code;

	if (rep->cls == STUN_CLASS_SUCCESS) {
		FUZZ_CHECK(oc->result == METRIC_STUN_SUCCESS);
		FUZZ_CHECK(rep->method == STUN_METHOD_BINDING);
		fuzz_check_addr(rep, STUN_ATTR_MAPPED_ADDRESS, false, &env->src);
		if (rep->dialect == STUN_DIALECT_RFC5389)
			fuzz_check_addr(rep, STUN_ATTR_XOR_MAPPED_ADDRESS, true, &env->src);
		if (rep->dialect == STUN_DIALECT_MSTURN)
			fuzz_check_addr(rep, STUN_MSATTR_XOR_MAPPED_ADDRESS, true, &env->src);
		if (rep->dialect == STUN_DIALECT_CLASSIC)
			fuzz_check_addr(rep, STUN_ATTR_SOURCE_ADDRESS, false, &env->local);
		return;
	}
	FUZZ_CHECK(rep->method == stun_type_method((uint16_t)((req[0] << 8 | req[1]) & 0x3FFF)));
	a = stun_msg_attr(rep, STUN_ATTR_ERROR_CODE);
	FUZZ_CHECK(a != NULL && stun_attr_error(a, &code, NULL, NULL) == 0);
	FUZZ_CHECK(code == (oc->result == METRIC_STUN_UNKNOWN_ATTRIBUTE ? 420 : 400));
	FUZZ_CHECK(oc->result != METRIC_STUN_SUCCESS);
	if (code == 420)
		FUZZ_CHECK(stun_msg_attr(rep, STUN_ATTR_UNKNOWN_ATTRIBUTES) != NULL);
}

static void fuzz_check_reply(const uint8_t *req, size_t len, const uint8_t *out, size_t out_len,
                             const struct fuzz_env *env, const struct binding_outcome *oc)
{
	struct stun_msg rep;

	FUZZ_CHECK(out_len <= BINDING_REPLY_MAX);
	if (out_len == 0) {
		FUZZ_CHECK(!oc->answered);
		return;
	}
	FUZZ_CHECK(oc->answered);
	FUZZ_CHECK(len >= STUN_HDR_LEN);
	FUZZ_CHECK(stun_msg_decode(&rep, out, out_len) == 0);
	FUZZ_CHECK(rep.buf_len == out_len);
	FUZZ_CHECK(memcmp(rep.tid, req + 4, STUN_TID_LEN) == 0);
	FUZZ_CHECK(rep.cls == STUN_CLASS_SUCCESS || rep.cls == STUN_CLASS_ERROR);
	FUZZ_CHECK(rep.dialect == oc->dialect);
	if (stun_msg_attr(&rep, STUN_ATTR_FINGERPRINT) && rep.dialect == STUN_DIALECT_RFC5389)
		FUZZ_CHECK(stun_msg_check_fingerprint(&rep) == 0);
	fuzz_check_body(&rep, req, env, oc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t roomy[STUN_MAX_MSG_LEN];
	struct binding_outcome oc, oc2;
	struct fuzz_env env;
	size_t out_len, out_len2;
	uint8_t *exact;

	if (size < 1)
		return 0;
	fuzz_env_init(&env, data[0]);
	/* data + 1 still ends where libFuzzer's exact-size buffer ends */
	binding_answer(data + 1, size - 1, (const struct sockaddr *)&env.src,
	               (const struct sockaddr *)&env.local, &env.opts, roomy, sizeof(roomy),
	               &out_len, &oc);
	fuzz_check_reply(data + 1, size - 1, roomy, out_len, &env, &oc);

	exact = malloc(BINDING_REPLY_MAX);
	FUZZ_CHECK(exact != NULL);
	binding_answer(data + 1, size - 1, (const struct sockaddr *)&env.src,
	               (const struct sockaddr *)&env.local, &env.opts, exact, BINDING_REPLY_MAX,
	               &out_len2, &oc2);
	FUZZ_CHECK(out_len2 == out_len && oc2.answered == oc.answered && oc2.dialect == oc.dialect);
	FUZZ_CHECK(oc.answered ? oc2.result == oc.result : oc2.drop == oc.drop);
	FUZZ_CHECK(memcmp(exact, roomy, out_len) == 0);
	free(exact);
	return 0;
}
