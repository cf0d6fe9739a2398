/* The HTTPS control API's bearer token, as pure functions over bytes (and
 * one reader of the token file): the file's first line, the Authorization
 * header's token, and their comparison in constant time. Inside the control
 * module; tests/fuzz/fuzz_control.c fuzzes the parsers. */
#ifndef EDGELAB_CONTROL_AUTH_H
#define EDGELAB_CONTROL_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define CONTROL_TOKEN_MIN      16
#define CONTROL_TOKEN_MAX      256
#define CONTROL_TOKEN_FILE_MAX 4096 /* the first line must be in the first 4 KiB */

/* A token: text zero-padded to the end, so that a comparison always reads
 * the whole array whatever the token's length. len 0: no token. */
struct control_token {
	char text[CONTROL_TOKEN_MAX + 1];
	size_t len;
};

/* The token a token file holds: its first line (up to '\n' or the end),
 * trailing white space stripped, must be CONTROL_TOKEN_MIN to
 * CONTROL_TOKEN_MAX printable ASCII characters without blanks (0x21-0x7e,
 * what an Authorization header carries whole). 0, or EINVAL with why set
 * to a phrase ("the first line is 5 characters, not 16-256"). */
int control_token_parse(const char *buf, size_t len, struct control_token *t, const char **why);
/* Reads the token from path. 0, or an errno with err set to
 * "control_token_file PATH: reason". */
int control_token_read(const char *path, struct control_token *t, char *err, size_t err_len);

/* The token of an Authorization header value "Bearer TOKEN" (RFC 6750 2.1:
 * the scheme in any case, one or more spaces, then the token; trailing
 * blanks ignored): 0 with *tok, *len pointing into value, or EINVAL (another
 * scheme, no token, a blank or control character in it, longer than
 * CONTROL_TOKEN_MAX). */
int control_bearer_parse(const char *value, const char **tok, size_t *len);

/* Whether got (len bytes) is want, in time that depends on neither's
 * content nor on where they differ: both are compared over the whole
 * CONTROL_TOKEN_MAX bytes. False when want has no token. */
bool control_token_equal(const struct control_token *want, const char *got, size_t len);

#endif
