#include <string.h>
#include <sys/utsname.h>

#include "zdtmtst.h"
#include "ns_join.h"

const char *test_doc = "Restored with --join-ns uts:FILE into a UTS namespace the harness made (named "
		       "zdtm-joined / zdtm-joined.dom): after C/R the test is in that namespace and sees its names, "
		       "not the ones it had (h: it shared the engine's namespace at the dump; ns: it had its own, "
		       "whose names are not written into the joined one)";
const char *test_author = "Stasis developers";

#define HOST "zdtm-joined"
#define DOMAIN "zdtm-joined.dom"

int main(int argc, char **argv)
{
	struct utsname before, after;
	ino_t ino;
	int where;

	test_init(argc, argv);

	if (ns_ino("uts", &ino) || uname(&before))
		return pr_perror("uname");
	if (!strcmp(before.nodename, HOST)) {
		pr_err("the test starts with the joined namespace's host name %s\n", HOST);
		return 1;
	}

	test_daemon();
	test_waitsig();

	where = where_now("uts", ino);
	if (where < 0)
		return 1;
	if (uname(&after)) {
		fail("uname");
		return 1;
	}
	if (where && (strcmp(after.nodename, HOST) || strcmp(after.domainname, DOMAIN))) {
		errno = 0;
		fail("in the joined UTS namespace the names are \"%s\" \"%s\", not \"%s\" \"%s\"", after.nodename,
		     after.domainname, HOST, DOMAIN);
		return 1;
	}
	if (!where && (strcmp(after.nodename, before.nodename) || strcmp(after.domainname, before.domainname))) {
		errno = 0;
		fail("names changed: \"%s\" \"%s\" -> \"%s\" \"%s\"", before.nodename, before.domainname,
		     after.nodename, after.domainname);
		return 1;
	}
	pass();
	return 0;
}
