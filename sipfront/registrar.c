#include "sipfront/registrar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipfront/server_priv.h"

struct sip_binding {
	LIST_ENTRY(sip_binding) link;
	char aor[SIP_AOR_MAX];
	char contact[SIP_CONTACT_MAX];
	struct sip_conn *conn;
	time_t expires;
};

static struct sip_binding *find(struct sip_server *s, const char *aor)
{
	struct sip_binding *b;
	LIST_FOREACH(b, &s->bindings, link)
	if (strcasecmp(b->aor, aor) == 0)
		return b;
	return NULL;
}

/* Moves b onto c, keeping each connection's count of its bindings (a
 * registered connection is never evicted: core/evict.h). */
static void set_conn(struct sip_binding *b, struct sip_conn *c)
{
	if (b->conn)
		b->conn->n_bindings--;
	b->conn = c;
	if (c)
		c->n_bindings++;
}

static void unbind(struct sip_server *s, struct sip_binding *b)
{
	set_conn(b, NULL);
	LIST_REMOVE(b, link);
	s->n_bindings--;
	free(b);
}

int sip_registrar_bind(struct sip_server *s, struct sip_conn *c, const char *aor,
                       const char *contact, unsigned expires, time_t now)
{
	struct sip_binding *b = find(s, aor);
	if (expires == 0) {
		if (!b)
			return ENOENT;
		unbind(s, b);
		return 0;
	}
	if (!b) {
		if (s->n_bindings >= SIP_BINDINGS_MAX)
			return ENOSPC;
		b = calloc(1, sizeof(*b));
		if (!b)
			return ENOMEM;
		snprintf(b->aor, sizeof(b->aor), "%s", aor);
		LIST_INSERT_HEAD(&s->bindings, b, link);
		s->n_bindings++;
	}
	/* The latest registration wins: one contact per AOR in this lab registrar. */
	snprintf(b->contact, sizeof(b->contact), "%s", contact);
	set_conn(b, c);
	b->expires = now + (time_t)expires;
	return 0;
}

/* "<sip:a@b;transport=tls>;expires=60" -> "sip:a@b;transport=tls" */
static void contact_uri(const char *contact, char *out, size_t cap)
{
	const char *lt = strchr(contact, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	size_t len = lt && gt ? (size_t)(gt - lt - 1) : strcspn(contact, ";");
	const char *start = lt && gt ? lt + 1 : contact;
	snprintf(out, cap, "%.*s", (int)len, start);
}

struct sip_conn *sip_registrar_lookup(struct sip_server *s, const char *aor, time_t now,
                                      char *contact, size_t contact_len)
{
	struct sip_binding *b = find(s, aor);
	if (b && b->expires <= now) {
		unbind(s, b);
		return NULL;
	}
	if (b && contact)
		contact_uri(b->contact, contact, contact_len);
	return b ? b->conn : NULL;
}

/* A binding dies with its connection: the flow is the only way to reach it. */
void sip_registrar_forget_conn(struct sip_server *s, struct sip_conn *c)
{
	struct sip_binding *b = LIST_FIRST(&s->bindings);
	while (b) {
		struct sip_binding *next = LIST_NEXT(b, link);
		if (b->conn == c)
			unbind(s, b);
		b = next;
	}
}

void sip_registrar_clear(struct sip_server *s)
{
	while (!LIST_EMPTY(&s->bindings))
		unbind(s, LIST_FIRST(&s->bindings));
}
