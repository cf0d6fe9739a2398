/* The bearer token's parsers and comparison (control/auth.h). */
#include "control/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static bool token_char(char c)
{
	return c > 0x20 && c < 0x7f;
}

int control_token_parse(const char *buf, size_t len, struct control_token *t, const char **why)
{
	const char *nl = memchr(buf, '\n', len);
	size_t n = nl ? (size_t)(nl - buf) : len;
	memset(t, 0, sizeof(*t));
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\r'))
		n--;
	if (n < CONTROL_TOKEN_MIN || n > CONTROL_TOKEN_MAX) {
		*why = n ? "the first line must be 16-256 characters" : "the first line is empty";
		return EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (!token_char(buf[i])) {
			*why = "the first line must be printable ASCII without blanks";
			return EINVAL;
		}
	memcpy(t->text, buf, n);
	t->len = n;
	return 0;
}

int control_token_read(const char *path, struct control_token *t, char *err, size_t err_len)
{
	char buf[CONTROL_TOKEN_FILE_MAX];
	const char *why = NULL;
	ssize_t n = -1;
	int rc, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		rc = n < 0 ? errno : 0;
		close(fd);
	} else {
		rc = errno;
	}
	if (!rc)
		rc = control_token_parse(buf, (size_t)n, t, &why);
	explicit_bzero(buf, sizeof(buf));
	if (rc)
		snprintf(err, err_len, "control_token_file %s: %s", path, why ? why : strerror(rc));
	return rc;
}

int control_bearer_parse(const char *value, const char **tok, size_t *len)
{
	static const char scheme[] = "Bearer";
	const size_t slen = sizeof(scheme) - 1;
	if (strncasecmp(value, scheme, slen) != 0 || value[slen] != ' ')
		return EINVAL;
	const char *p = value + slen;
	while (*p == ' ')
		p++;
	size_t n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0 || n > CONTROL_TOKEN_MAX)
		return EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!token_char(p[i]))
			return EINVAL;
	*tok = p;
	*len = n;
	return 0;
}

bool control_token_equal(const struct control_token *want, const char *got, size_t len)
{
	char padded[CONTROL_TOKEN_MAX] = {0};
	/* The copy depends on got's length only, which the client knows. */
	memcpy(padded, got, len < sizeof(padded) ? len : sizeof(padded));
	int diff = CRYPTO_memcmp(want->text, padded, sizeof(padded));
	diff |= (want->len ^ len) != 0;
	return want->len > 0 && diff == 0;
}
