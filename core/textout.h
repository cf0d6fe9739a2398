/* Text output with a sticky error: every write goes through here so that
 * the first failure is kept and report or rule writers need no error path of
 * their own; textout_finish flushes and returns it (buffered data only fails
 * when it reaches the file: ENOSPC, EPIPE). */
#ifndef EDGELAB_CORE_TEXTOUT_H
#define EDGELAB_CORE_TEXTOUT_H

#include <stddef.h>
#include <stdio.h>

struct out {
	FILE *f;
	int err;
};

void out_printf(struct out *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_putc(struct out *w, char c);
void out_bytes(struct out *w, const char *s, size_t n);
int out_finish(struct out *w);

#endif
