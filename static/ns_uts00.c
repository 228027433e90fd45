#include <sched.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "zdtmtst.h"
#include "ns_outer.h"

const char *test_doc = "The test's own UTS namespace (unshare CLONE_NEWUTS) with a host and domain name of its "
		       "own: after C/R the names are the same and the test is still in a UTS namespace of its "
		       "own (a new one: the inode cannot come back)";
const char *test_author = "Stasis developers";

#define HOST "zdtm-uts00-host"
#define DOMAIN "zdtm-uts00-domain"

static int ns_ino(const char *path, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st))
		return pr_perror("stat %s", path);
	*ino = st.st_ino;
	return 0;
}

int main(int argc, char **argv)
{
	ino_t outer, mine, now;
	struct utsname u;

	test_init(argc, argv);
	if (ns_outer_start())
		return 1;

	if (ns_ino("/proc/self/ns/uts", &outer))
		return 1;
	if (unshare(CLONE_NEWUTS)) {
		pr_perror("unshare(CLONE_NEWUTS)");
		return 1;
	}
	if (sethostname(HOST, strlen(HOST)) || setdomainname(DOMAIN, strlen(DOMAIN))) {
		pr_perror("sethostname/setdomainname");
		return 1;
	}
	if (ns_ino("/proc/self/ns/uts", &mine))
		return 1;
	if (mine == outer) {
		pr_err("unshare(CLONE_NEWUTS) left the test in its namespace\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (ns_ino("/proc/self/ns/uts", &now))
		return 1;
	/* not the outer one: asked of a child still in it (a dead namespace's number may be reused) */
	if (ns_outer_ino("uts", &outer) || now == outer) {
		errno = 0;
		fail("after C/R the test is in the outer UTS namespace (%lu), not one of its own", (unsigned long)now);
		return 1;
	}
	if (uname(&u)) {
		fail("uname");
		return 1;
	}
	if (strcmp(u.nodename, HOST) || strcmp(u.domainname, DOMAIN)) {
		errno = 0;
		fail("names after C/R: \"%s\" \"%s\", expected \"%s\" \"%s\"", u.nodename, u.domainname, HOST, DOMAIN);
		return 1;
	}
	ns_outer_stop();
	pass();
	return 0;
}
