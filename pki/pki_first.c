/* pki: the lab set written at a daemon's first start (pki.h), for an image
 * whose certificate volume starts empty. */
#include "pki/pki_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pki_lab_first_start(const char *dir, const char *edge_fqdn, const char *sip_domain, bool *wrote,
                        struct pki_err *err)
{
	static const char *const files[] = {"edge.pem", "edge.key", "ca.pem"};
	char missing[64] = "", present[64] = "";
	*wrote = false;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, files[i]) >= (int)sizeof(path))
			return pki_err_set(err, ENAMETOOLONG, "%s: name too long", dir);
		char *list = access(path, F_OK) == 0 ? present : missing;
		size_t used = strlen(list);
		snprintf(list + used, sizeof(missing) - used, "%s%s", used ? " " : "", files[i]);
	}
	if (!missing[0])
		return 0;
	if (present[0])
		return pki_err_set(err, EEXIST, "%s has %s but not %s: mount all three or none",
		                   dir, present, missing);
	struct pki_lab_opts o = {
	    .out_dir = dir, .edge_fqdn = edge_fqdn, .sip_domain = sip_domain, .kt = PKI_KEY_EC};
	/* The plan is large (file names of PATH_MAX): off the stack. */
	struct pki_lab_plan *plan = calloc(1, sizeof(*plan));
	if (!plan)
		return pki_err_set(err, ENOMEM, "out of memory");
	int rc = pki_lab_plan(plan, &o, err);
	if (!rc)
		rc = pki_lab_write(plan, err);
	free(plan);
	*wrote = rc == 0;
	return rc;
}
