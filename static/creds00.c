#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that uids, gids, supplementary groups, capability sets and keep-caps survive C/R";
const char *test_author = "Stasis developers";

static const char *status_keys[] = { "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:" };

struct creds {
	uid_t uid[3];
	gid_t gid[3];
	int ngroups;
	gid_t groups[64];
	int keepcaps;
	char status[ARRAY_SIZE(status_keys)][512];
};

static int get_creds(struct creds *c)
{
	char line[512];
	FILE *f;
	size_t i;

	memset(c, 0, sizeof(*c));
	if (getresuid(&c->uid[0], &c->uid[1], &c->uid[2]) || getresgid(&c->gid[0], &c->gid[1], &c->gid[2]))
		return pr_perror("getres[ug]id");
	c->ngroups = getgroups(ARRAY_SIZE(c->groups), c->groups);
	if (c->ngroups < 0)
		return pr_perror("getgroups");
	c->keepcaps = prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0);

	f = fopen("/proc/self/status", "r");
	if (!f)
		return pr_perror("fopen(/proc/self/status)");
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < ARRAY_SIZE(status_keys); i++)
			if (!strncmp(line, status_keys[i], strlen(status_keys[i])))
				strcpy(c->status[i], line);
	fclose(f);
	for (i = 0; i < ARRAY_SIZE(status_keys); i++)
		if (!c->status[i][0]) {
			pr_err("no %s line in /proc/self/status\n", status_keys[i]);
			return 1;
		}
	return 0;
}

static int compare(const struct creds *a, const struct creds *b)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		if (a->uid[i] != b->uid[i] || a->gid[i] != b->gid[i]) {
			fail("res[ug]id[%zu] was %d/%d, now %d/%d", i, (int)a->uid[i], (int)a->gid[i], (int)b->uid[i],
			     (int)b->gid[i]);
			return 1;
		}
	}
	if (a->ngroups != b->ngroups || memcmp(a->groups, b->groups, a->ngroups * sizeof(gid_t))) {
		fail("supplementary groups changed (%d groups before, %d after)", a->ngroups, b->ngroups);
		return 1;
	}
	if (a->keepcaps != b->keepcaps) {
		fail("PR_GET_KEEPCAPS was %d, now %d", a->keepcaps, b->keepcaps);
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(status_keys); i++) {
		if (strcmp(a->status[i], b->status[i])) {
			fail("/proc/self/status line changed: '%s' became '%s'", a->status[i], b->status[i]);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct creds before, after;
	const char *env;

	test_init(argc, argv);

	/* keep-caps (SECBIT_KEEP_CAPS) needs no privilege and is off by default */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)) {
		pr_perror("PR_SET_KEEPCAPS");
		return 1;
	}
	if (get_creds(&before))
		return 1;

	/* The harness switched us to ZDTM_UID/ZDTM_GID: make sure that is what we check */
	env = getenv("ZDTM_UID");
	if (env && (before.uid[0] != (uid_t)atoi(env) || before.uid[1] != (uid_t)atoi(env))) {
		pr_err("running as uid %d, not ZDTM_UID %s\n", (int)before.uid[0], env);
		return 1;
	}
	env = getenv("ZDTM_GID");
	if (env && before.gid[0] != (gid_t)atoi(env)) {
		pr_err("running as gid %d, not ZDTM_GID %s\n", (int)before.gid[0], env);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (get_creds(&after)) {
		fail("cannot read the credentials");
		return 1;
	}
	if (compare(&before, &after))
		return 1;

	pass();
	return 0;
}
