#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "A user namespace of the test's own, made by an unprivileged test (unshare CLONE_NEWUSER, "
		       "its uid and gid mapped to 0): after C/R it is still uid/gid 0 in the same namespace "
		       "(/proc/self/ns/user inode), with the same uid_map, gid_map, setgroups and capabilities";
const char *test_author = "Stasis developers";

struct state {
	ino_t ns;
	uid_t uid;
	gid_t gid;
	char uid_map[128], gid_map[128], setgroups[32];
	struct __user_cap_data_struct caps[2];
};

static int get_state(struct state *s)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (stat("/proc/self/ns/user", &st))
		return pr_perror("stat /proc/self/ns/user");
	s->ns = st.st_ino;
	s->uid = getuid();
	s->gid = getgid();
	if (read_value("/proc/self/uid_map", s->uid_map, sizeof(s->uid_map)) ||
	    read_value("/proc/self/gid_map", s->gid_map, sizeof(s->gid_map)) ||
	    read_value("/proc/self/setgroups", s->setgroups, sizeof(s->setgroups)))
		return 1;
	if (syscall(SYS_capget, &hdr, s->caps))
		return pr_perror("capget");
	return 0;
}

int main(int argc, char **argv)
{
	struct state outer, mine, now;
	char map[64];
	uid_t uid;
	gid_t gid;

	test_init(argc, argv);

	uid = getuid();
	gid = getgid();
	if (uid == 0) {
		pr_err("the test must run unprivileged\n");
		return 1;
	}
	if (get_state(&outer))
		return 1;
	if (unshare(CLONE_NEWUSER)) {
		pr_perror("unshare(CLONE_NEWUSER)");
		return 1;
	}
	if (write_value("/proc/self/setgroups", "deny"))
		return 1;
	ssprintf(map, "0 %d 1", (int)uid);
	if (write_value("/proc/self/uid_map", map))
		return 1;
	ssprintf(map, "0 %d 1", (int)gid);
	if (write_value("/proc/self/gid_map", map))
		return 1;
	if (get_state(&mine))
		return 1;
	if (mine.ns == outer.ns || mine.uid != 0 || mine.gid != 0 ||
	    !(mine.caps[0].effective & (1 << CAP_SYS_ADMIN))) {
		pr_err("not root in a new user namespace after the setup (uid %d gid %d)\n", mine.uid, mine.gid);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (get_state(&now))
		return 1;
	if (now.ns != mine.ns) {
		errno = 0;
		fail("the user namespace is %lu after C/R, was %lu (now in %s)", (unsigned long)now.ns,
		     (unsigned long)mine.ns, now.ns == outer.ns ? "the outer one" : "yet another one");
		return 1;
	}
	if (now.uid != 0 || now.gid != 0) {
		errno = 0;
		fail("uid %d gid %d after C/R, expected 0 0", now.uid, now.gid);
		return 1;
	}
	if (strcmp(now.uid_map, mine.uid_map) || strcmp(now.gid_map, mine.gid_map) ||
	    strcmp(now.setgroups, mine.setgroups)) {
		errno = 0;
		fail("uid_map \"%s\" gid_map \"%s\" setgroups \"%s\" after C/R; were \"%s\" \"%s\" \"%s\"",
		     now.uid_map, now.gid_map, now.setgroups, mine.uid_map, mine.gid_map, mine.setgroups);
		return 1;
	}
	if (memcmp(now.caps, mine.caps, sizeof(now.caps))) {
		errno = 0;
		fail("capabilities after C/R: eff %#x prm %#x, were %#x %#x", now.caps[0].effective,
		     now.caps[0].permitted, mine.caps[0].effective, mine.caps[0].permitted);
		return 1;
	}
	pass();
	return 0;
}
