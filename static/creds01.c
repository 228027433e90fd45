#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that mixed real/effective/saved ids, groups, partial capability sets, an ambient "
		       "capability, a dropped bounding capability and securebits survive C/R (starts as root)";
const char *test_author = "Stasis developers";

/* Ids inside the ranges the uns flavor maps (uids 0..19999, gids 0..49999) */
#define RUID 18943
#define EUID 17001
#define SUID 12345
#define RGID 48244
#define EGID 27495
#define SGID 31337

/* Sorted, as the kernel keeps and returns them */
static const gid_t new_groups[] = { 4242, 27495, 31337, 48244 };

#define CAPBIT(c) (1U << (c))
#define EFF_CAPS (CAPBIT(CAP_CHOWN) | CAPBIT(CAP_KILL) | CAPBIT(CAP_NET_BIND_SERVICE))
#define PRM_CAPS (EFF_CAPS | CAPBIT(CAP_DAC_READ_SEARCH) | CAPBIT(CAP_FOWNER))
#define INH_CAPS (CAPBIT(CAP_KILL) | CAPBIT(CAP_NET_BIND_SERVICE))
#define AMB_CAP CAP_NET_BIND_SERVICE
#define DROPPED_BSET_CAP CAP_MKNOD
#define SECBITS (SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP)

static const char *status_keys[] = { "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:" };

struct creds {
	uid_t uid[3];
	gid_t gid[3];
	int ngroups;
	gid_t groups[64];
	int securebits;
	int ambient;
	int bset_dropped;
	struct __user_cap_data_struct caps[2];
	char status[ARRAY_SIZE(status_keys)][512];
};

static int get_creds(struct creds *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	char line[512];
	FILE *f;
	size_t i;

	memset(c, 0, sizeof(*c));
	if (getresuid(&c->uid[0], &c->uid[1], &c->uid[2]) || getresgid(&c->gid[0], &c->gid[1], &c->gid[2]))
		return pr_perror("getres[ug]id");
	c->ngroups = getgroups(ARRAY_SIZE(c->groups), c->groups);
	if (c->ngroups < 0)
		return pr_perror("getgroups");
	c->securebits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	c->ambient = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, AMB_CAP, 0, 0);
	c->bset_dropped = !prctl(PR_CAPBSET_READ, DROPPED_BSET_CAP, 0, 0, 0);
	if (syscall(SYS_capget, &hdr, c->caps))
		return pr_perror("capget");

	f = fopen("/proc/self/status", "r");
	if (!f)
		return pr_perror("fopen(/proc/self/status)");
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < ARRAY_SIZE(status_keys); i++)
			if (!strncmp(line, status_keys[i], strlen(status_keys[i])))
				strcpy(c->status[i], line);
	fclose(f);
	return 0;
}

static int check_expected(const struct creds *c)
{
	if (c->uid[0] != RUID || c->uid[1] != EUID || c->uid[2] != SUID) {
		fail("uids %d/%d/%d, expected %d/%d/%d", (int)c->uid[0], (int)c->uid[1], (int)c->uid[2], RUID, EUID,
		     SUID);
		return 1;
	}
	if (c->gid[0] != RGID || c->gid[1] != EGID || c->gid[2] != SGID) {
		fail("gids %d/%d/%d, expected %d/%d/%d", (int)c->gid[0], (int)c->gid[1], (int)c->gid[2], RGID, EGID,
		     SGID);
		return 1;
	}
	if (c->ngroups != (int)ARRAY_SIZE(new_groups) || memcmp(c->groups, new_groups, sizeof(new_groups))) {
		fail("supplementary groups are not the ones set (%d groups)", c->ngroups);
		return 1;
	}
	if (c->caps[0].effective != EFF_CAPS || c->caps[0].permitted != PRM_CAPS ||
	    c->caps[0].inheritable != INH_CAPS || c->caps[1].effective || c->caps[1].permitted ||
	    c->caps[1].inheritable) {
		fail("capabilities eff %#x prm %#x inh %#x, expected %#x %#x %#x", c->caps[0].effective,
		     c->caps[0].permitted, c->caps[0].inheritable, EFF_CAPS, PRM_CAPS, INH_CAPS);
		return 1;
	}
	if (c->ambient != 1) {
		fail("ambient capability %d is not set", AMB_CAP);
		return 1;
	}
	if (!c->bset_dropped) {
		fail("capability %d is back in the bounding set", DROPPED_BSET_CAP);
		return 1;
	}
	if (c->securebits != SECBITS) {
		fail("securebits %#x, expected %#x", c->securebits, SECBITS);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	struct creds before, after;
	size_t i;

	test_init(argc, argv);

	if (getuid() != 0) {
		pr_err("creds01 must start as root (desc flag suid)\n");
		return 1;
	}

	if (prctl(PR_CAPBSET_DROP, DROPPED_BSET_CAP, 0, 0, 0))
		return pr_perror("PR_CAPBSET_DROP");
	if (prctl(PR_SET_SECUREBITS, SECBITS, 0, 0, 0))
		return pr_perror("PR_SET_SECUREBITS");
	if (setgroups(ARRAY_SIZE(new_groups), new_groups))
		return pr_perror("setgroups");
	if (setresgid(RGID, EGID, SGID))
		return pr_perror("setresgid");
	if (setresuid(RUID, EUID, SUID))
		return pr_perror("setresuid");

	memset(data, 0, sizeof(data));
	data[0].effective = EFF_CAPS;
	data[0].permitted = PRM_CAPS;
	data[0].inheritable = INH_CAPS;
	if (syscall(SYS_capset, &hdr, data))
		return pr_perror("capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, AMB_CAP, 0, 0))
		return pr_perror("PR_CAP_AMBIENT_RAISE");

	if (get_creds(&before))
		return 1;
	if (check_expected(&before)) {
		pr_err("the credentials are not as set before C/R\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (get_creds(&after)) {
		fail("cannot read the credentials");
		return 1;
	}
	if (check_expected(&after))
		return 1;
	for (i = 0; i < ARRAY_SIZE(status_keys); i++) {
		if (strcmp(before.status[i], after.status[i])) {
			fail("/proc/self/status line changed: '%s' became '%s'", before.status[i], after.status[i]);
			return 1;
		}
	}

	pass();
	return 0;
}
