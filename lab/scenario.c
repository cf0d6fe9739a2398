/* Finding a built-in training scenario and reading its symptom line
 * (lab/scenario.h); the files themselves are lab/scenario_files.c,
 * generated. */
#include "lab/scenario.h"

#include <stdio.h>
#include <string.h>

#define SYMPTOM_TAG "# symptom: "

const struct scenario_file *scenario_find(const char *name)
{
	for (size_t i = 0; i < scenario_files_count; i++)
		if (strcmp(scenario_files[i].name, name) == 0)
			return &scenario_files[i];
	return NULL;
}

const char *scenario_symptom(const struct scenario_file *s, char *buf, size_t cap)
{
	const char *p = strstr(s->text, SYMPTOM_TAG);
	if (cap)
		buf[0] = '\0';
	if (!p || !cap)
		return buf;
	p += strlen(SYMPTOM_TAG);
	size_t n = strcspn(p, "\n");
	snprintf(buf, cap, "%.*s", (int)n, p);
	return buf;
}
