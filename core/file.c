#include "core/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int file_read_all(const char *path, size_t max, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return errno;
	char *buf = malloc(max + 2);
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	int rc = !buf ? ENOMEM : ferror(f) ? EIO : n > max ? EFBIG : 0;
	fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}
