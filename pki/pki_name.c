/* Names that go into certificates as they are: DNS names (RFC 1123 labels,
 * no all-numeric last label) and user parts. Used by the certificate
 * builder (pki.c) and the lab's set (pki_lab.c). */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "pki/pki.h"

static bool label_valid(const char *s, size_t len)
{
	if (len < 1 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	}
	return true;
}

/* An all-numeric last label is refused (RFC 3696 2): "10.0.0.1" would go
 * into a DNS SAN where no verifier would ever match it. */
bool pki_name_valid(const char *name)
{
	if (!name || !*name || strlen(name) > PKI_NAME_MAX)
		return false;
	const char *label = name;
	bool numeric = true;
	for (;;) {
		const char *dot = strchr(label, '.');
		size_t len = dot ? (size_t)(dot - label) : strlen(label);
		if (!label_valid(label, len))
			return false;
		numeric = strspn(label, "0123456789") >= len;
		if (!dot)
			break;
		label = dot + 1;
	}
	return !numeric;
}

bool pki_user_valid(const char *user)
{
	if (!user || !*user || strlen(user) > PKI_USER_MAX)
		return false;
	for (const char *p = user; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("._+-", *p))
			return false;
	}
	return true;
}
