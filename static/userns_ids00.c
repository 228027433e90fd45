#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef USERNS_IDS_DOC
#define USERNS_IDS_DOC ""
#endif
const char *test_doc = USERNS_IDS_DOC "The ids the test has and sees in its user namespace (flavor uns: a namespace of its own "
		       "with upstream's maps): after C/R getres[ug]id, the groups, capabilities, uid_map, gid_map "
		       "and setgroups read the same, and a file it made is still owned by its uid and gid as it "
		       "sees them";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

struct ids {
	uid_t r, e, s, fs;
	gid_t rg, eg, sg, fsg;
	int ngroups;
	gid_t groups[64];
	struct __user_cap_data_struct caps[2];
	char uid_map[256], gid_map[256], setgroups[32];
	uid_t file_uid;
	gid_t file_gid;
	mode_t file_mode;
};

static int get_ids(struct ids *x)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct stat st;

	memset(x, 0, sizeof(*x));
	if (getresuid(&x->r, &x->e, &x->s) || getresgid(&x->rg, &x->eg, &x->sg))
		return pr_perror("getres[ug]id");
	x->fs = setfsuid(-1);
	x->fsg = setfsgid(-1);
	x->ngroups = getgroups(64, x->groups);
	if (x->ngroups < 0)
		return pr_perror("getgroups");
	if (syscall(SYS_capget, &hdr, x->caps))
		return pr_perror("capget");
	if (read_value("/proc/self/uid_map", x->uid_map, sizeof(x->uid_map)) ||
	    read_value("/proc/self/gid_map", x->gid_map, sizeof(x->gid_map)) ||
	    read_value("/proc/self/setgroups", x->setgroups, sizeof(x->setgroups)))
		return 1;
	if (stat(filename, &st))
		return pr_perror("stat %s", filename);
	x->file_uid = st.st_uid;
	x->file_gid = st.st_gid;
	x->file_mode = st.st_mode;
	return 0;
}

static int same(const struct ids *a, const struct ids *b)
{
	int ok = 1;

#define CMP(f, fmt)                                                                          \
	if (a->f != b->f) {                                                                  \
		pr_err(#f " was " fmt ", is " fmt "\n", a->f, b->f);                         \
		ok = 0;                                                                      \
	}
	CMP(r, "%u") CMP(e, "%u") CMP(s, "%u") CMP(fs, "%u")
	CMP(rg, "%u") CMP(eg, "%u") CMP(sg, "%u") CMP(fsg, "%u")
	CMP(ngroups, "%d") CMP(file_uid, "%u") CMP(file_gid, "%u") CMP(file_mode, "%o")
	CMP(caps[0].effective, "%#x") CMP(caps[0].permitted, "%#x") CMP(caps[0].inheritable, "%#x")
	CMP(caps[1].effective, "%#x") CMP(caps[1].permitted, "%#x") CMP(caps[1].inheritable, "%#x")
#undef CMP
	if (a->ngroups == b->ngroups && memcmp(a->groups, b->groups, a->ngroups * sizeof(gid_t))) {
		pr_err("the supplementary groups differ\n");
		ok = 0;
	}
	if (strcmp(a->uid_map, b->uid_map) || strcmp(a->gid_map, b->gid_map)) {
		pr_err("the maps were '%s' / '%s', are '%s' / '%s'\n", a->uid_map, a->gid_map, b->uid_map, b->gid_map);
		ok = 0;
	}
	if (strcmp(a->setgroups, b->setgroups)) {
		pr_err("setgroups was %s, is %s\n", a->setgroups, b->setgroups);
		ok = 0;
	}
	return ok;
}

int main(int argc, char **argv)
{
	struct ids before, after;
	int fd;

	test_init(argc, argv);

#ifdef USERNS_OWN_IDS
	if (getuid() != 0) {
		pr_err("the test must run as root (suid)\n");
		return 1;
	}
	/* ids of its own: real, effective and saved all different, two groups, and capabilities kept
	   through the uid change (saved uid 0) with only some of them effective */
	{
		struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct caps[2];
		gid_t groups[] = { 5, 6 };

		if (setgroups(2, groups) || setresgid(1000, 1001, 1002) || prctl(PR_SET_KEEPCAPS, 1) ||
		    setresuid(1000, 1001, 0)) {
			pr_perror("switching ids");
			return 1;
		}
		if (syscall(SYS_capget, &hdr, caps)) {
			pr_perror("capget");
			return 1;
		}
		caps[0].effective = caps[0].permitted & ((1 << CAP_CHOWN) | (1 << CAP_KILL) | (1 << CAP_SETUID));
		caps[1].effective = 0;
		if (syscall(SYS_capset, &hdr, caps)) {
			pr_perror("capset");
			return 1;
		}
	}
#endif

	fd = open(filename, O_CREAT | O_EXCL | O_WRONLY, 0640);
	if (fd < 0) {
		pr_perror("create %s", filename);
		return 1;
	}
	close(fd);
	if (get_ids(&before))
		return 1;
	if (before.file_uid != before.fs || before.file_gid != before.fsg) {
		pr_err("the new file is owned by %u:%u, not by the test's %u:%u\n", before.file_uid, before.file_gid,
		       before.fs, before.fsg);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (get_ids(&after)) {
		fail("cannot read the ids after C/R");
		return 1;
	}
	if (!same(&before, &after)) {
		fail("the ids changed");
		return 1;
	}
	unlink(filename);
	pass();
	return 0;
}
