#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Processes of one tree in different UTS namespaces: child A makes one of its own with "
		       "names of its own and forks G (in A's), child B makes another, child C stays in the "
		       "test's; after C/R every process has its names, A and G share their namespace, and no two "
		       "others do";
const char *test_author = "Stasis developers";

static ino_t ns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/uts", &st))
		return 0;
	return st.st_ino;
}

static int names_are(const char *who, const char *host, const char *domain)
{
	struct utsname u;

	if (uname(&u))
		return pr_perror("%s: uname", who);
	if (strcmp(u.nodename, host) || strcmp(u.domainname, domain)) {
		pr_err("%s: names \"%s\" \"%s\", expected \"%s\" \"%s\"\n", who, u.nodename, u.domainname, host,
		       domain);
		return 1;
	}
	return 0;
}

/* each child: wait for the word (a byte on its pipe), check, report its namespace inode, exit 0 if right */
static int child_check(int rd, int wr, const char *who, const char *host, const char *domain)
{
	char c;
	ino_t ino;

	if (read(rd, &c, 1) != 1)
		return 2;
	if (names_are(who, host, domain))
		return 1;
	ino = ns_ino();
	if (write(wr, &ino, sizeof(ino)) != sizeof(ino))
		return 3;
	return 0;
}

struct kid {
	pid_t pid;
	int go[2], back[2];
	const char *who, *host, *domain;
	int own;	/* makes a namespace of its own */
	int fork_g;	/* forks G into it */
};

static struct utsname test_names;

static int run_kid(struct kid *k, struct kid *g)
{
	if (k->own) {
		if (unshare(CLONE_NEWUTS) || sethostname(k->host, strlen(k->host)) ||
		    setdomainname(k->domain, strlen(k->domain)))
			return pr_perror("%s: its own UTS namespace", k->who);
	}
	if (k->fork_g) {
		g->pid = fork();
		if (g->pid < 0)
			return pr_perror("fork G");
		if (g->pid == 0)
			_exit(child_check(g->go[0], g->back[1], g->who, g->host, g->domain));
	}
	if (write(k->back[1], "r", 1) != 1)
		return 3;
	if (k->fork_g) {
		int st, ret = child_check(k->go[0], k->back[1], k->who, k->host, k->domain);

		if (write(g->go[1], "g", 1) != 1 || waitpid(g->pid, &st, 0) != g->pid)
			return 4;
		return ret ? ret : (WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 5);
	}
	return child_check(k->go[0], k->back[1], k->who, k->host, k->domain);
}

int main(int argc, char **argv)
{
	struct kid kids[4] = {
		{ .who = "A", .host = "zdtm-uts-a", .domain = "dom-a", .own = 1, .fork_g = 1 },
		{ .who = "G", .host = "zdtm-uts-a", .domain = "dom-a" },
		{ .who = "B", .host = "zdtm-uts-b-longer-name", .domain = "dom-b", .own = 1 },
		{ .who = "C" },
	};
	ino_t inos[4];
	int i, st, bad = 0;
	char c;

	test_init(argc, argv);
	if (uname(&test_names)) {
		pr_perror("uname");
		return 1;
	}
	kids[3].host = test_names.nodename;
	kids[3].domain = test_names.domainname;
	for (i = 0; i < 4; i++)
		if (pipe(kids[i].go) || pipe(kids[i].back)) {
			pr_perror("pipe");
			return 1;
		}
	for (i = 0; i < 4; i++) {
		if (i == 1)
			continue; /* G is A's */
		kids[i].pid = fork();
		if (kids[i].pid < 0) {
			pr_perror("fork");
			return 1;
		}
		if (kids[i].pid == 0)
			_exit(run_kid(&kids[i], &kids[1]));
		if (read(kids[i].back[0], &c, 1) != 1) {
			pr_err("%s did not get ready\n", kids[i].who);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	if (names_are("the test", test_names.nodename, test_names.domainname))
		bad = 1;
	/* A checks, then lets G check: G reports on its own pipe */
	for (i = 0; i < 4; i++) {
		if (write(kids[i].go[1], "g", 1) != 1 && i != 1) {
			fail("cannot wake %s", kids[i].who);
			return 1;
		}
	}
	for (i = 0; i < 4; i++) {
		if (read(kids[i].back[0], &inos[i], sizeof(inos[i])) != sizeof(inos[i])) {
			errno = 0;
			fail("%s did not report (its names were wrong, or it died)", kids[i].who);
			bad = 1;
			inos[i] = 0;
		}
	}
	for (i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		if (waitpid(kids[i].pid, &st, 0) != kids[i].pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
			errno = 0;
			fail("%s exited with %#x", kids[i].who, st);
			bad = 1;
		}
	}
	if (!bad) {
		ino_t mine = ns_ino();

		if (inos[0] != inos[1] || inos[0] == inos[2] || inos[0] == mine || inos[2] == mine ||
		    inos[3] != mine) {
			errno = 0;
			fail("namespace sharing: A %lu G %lu B %lu C %lu test %lu", (unsigned long)inos[0],
			     (unsigned long)inos[1], (unsigned long)inos[2], (unsigned long)inos[3], (unsigned long)mine);
			bad = 1;
		}
	}
	if (bad)
		return 1;
	pass();
	return 0;
}
