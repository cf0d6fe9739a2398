/* The training scenarios: faulty rulesets for the lab's fw, each a mistake
 * engineers really make (docs/training.md says what each one breaks and
 * how to fix it). Each is a file lab/scenarios/NAME.nft, built into the
 * binary (lab/embed_scenarios.sh), which starts with
 *
 *   # scenario: NAME
 *   # symptom: what the users see, in one line (not the cause)
 *
 * and is otherwise `nft -f` input. */
#ifndef EDGELAB_LAB_SCENARIO_H
#define EDGELAB_LAB_SCENARIO_H

#include <stddef.h>

#define SCENARIO_SYMPTOM_MAX 160

/* As built in: the file's name without .nft, and its text. */
struct scenario_file {
	const char *name;
	const char *text;
};
extern const struct scenario_file scenario_files[];
extern const size_t scenario_files_count;

/* The scenario called name, or NULL. */
const struct scenario_file *scenario_find(const char *name);
/* Its symptom line's text into buf (cap bytes); "" when it has none. */
const char *scenario_symptom(const struct scenario_file *s, char *buf, size_t cap);

#endif
