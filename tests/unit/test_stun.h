/* Shared between the STUN codec's unit test files: the RFC 5769 vectors,
 * a few helpers, and the tests that test_stun_rules.c holds. */
#ifndef EDGELAB_TESTS_TEST_STUN_H
#define EDGELAB_TESTS_TEST_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stun/stun.h"

/* RFC 5769 sections 2.1-2.4 (sizes checked against the definitions). */
extern const uint8_t rfc5769_request[108];
extern const uint8_t rfc5769_response_v4[80];
extern const uint8_t rfc5769_response_v6[92];
extern const uint8_t rfc5769_longterm[116];
extern const char rfc5769_password[];

const uint8_t *tid_of(const uint8_t *msg);
/* A heap copy of exactly len bytes, so that ASan catches any read past it. */
uint8_t *dup_exact(const uint8_t *buf, size_t len);
void assert_sa(const struct sockaddr_storage *ss, int family, const char *ip, uint16_t port);
void make_sa(struct sockaddr_storage *ss, const char *ip, uint16_t port);

/* test_stun_rules.c: length rules, encoder, readers, names, integrity. */
void test_stun_truncated_every_length(void **state);
void test_stun_length_not_multiple_of_4(void **state);
void test_stun_attr_overrun(void **state);
void test_stun_too_many_attrs(void **state);
void test_stun_too_large(void **state);
void test_stun_frame_len(void **state);
void test_stun_enc_enospc(void **state);
void test_stun_enc_einval(void **state);
void test_stun_xor_addr_roundtrip(void **state);
void test_stun_addr_malformed(void **state);
void test_stun_error_code(void **state);
void test_stun_unknown_attributes(void **state);
void test_stun_comprehension_required(void **state);
void test_stun_attr_names(void **state);
void test_stun_msturn_integrity(void **state);
void test_stun_rfc5389_sha256(void **state);
void test_stun_integrity_misplaced(void **state);

#endif
