/* The built-in registrar for the edge's own domain (REGISTER over 443), so
 * that a self-contained lab needs no other SIP server. A binding ties an
 * address of record to the TLS connection it registered on: requests for it
 * go down that connection (RFC 5626-style flow reuse). */
#ifndef EDGELAB_SIPFRONT_REGISTRAR_H
#define EDGELAB_SIPFRONT_REGISTRAR_H

#include <stddef.h>
#include <time.h>

struct sip_server;
struct sip_conn;

#define SIP_AOR_MAX      256
#define SIP_CONTACT_MAX  512
#define SIP_BINDINGS_MAX 10000 /* more REGISTERs get 503 */

/* Adds, refreshes (same AOR and connection) or, with expires 0, removes a
 * binding. 0, ENOSPC (table full) or ENOENT (removing an unknown one). */
int sip_registrar_bind(struct sip_server *s, struct sip_conn *c, const char *aor,
                       const char *contact, unsigned expires, time_t now);
/* The live connection an AOR is registered on, or NULL; its Contact URI
 * (without the angle brackets and header parameters) into contact. */
struct sip_conn *sip_registrar_lookup(struct sip_server *s, const char *aor, time_t now,
                                      char *contact, size_t contact_len);

#endif
