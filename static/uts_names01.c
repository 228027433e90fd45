#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A child changes the host name of the UTS namespace it shares with the test (and an "
		       "empty domain name): after C/R both see the child's names, and a name set after C/R by "
		       "one is seen by the other (one namespace, not two)";
const char *test_author = "Stasis developers";

#define HOST "uts-names01-child"
#define AFTER "uts-names01-after"

static int check(const char *who, const char *host, const char *domain)
{
	struct utsname u;

	if (uname(&u))
		return pr_perror("uname");
	if (strcmp(u.nodename, host) || strcmp(u.domainname, domain)) {
		errno = 0;
		fail("%s: names \"%s\" \"%s\", expected \"%s\" \"%s\"", who, u.nodename, u.domainname, host, domain);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int go[2], done[2], status;
	char c = 0;
	pid_t pid;

	test_init(argc, argv);

	if (pipe(go) || pipe(done)) {
		pr_perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		if (sethostname(HOST, strlen(HOST)) || setdomainname("", 0))
			_exit(1);
		if (write(done[1], &c, 1) != 1)
			_exit(2);
		/* after C/R: the parent checks, then asks us to look at its new name */
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(check("child", AFTER, "") ? 4 : 0);
	}
	if (read(done[0], &c, 1) != 1) {
		pr_perror("the child did not set the names");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (check("parent", HOST, ""))
		goto kill;
	if (sethostname(AFTER, strlen(AFTER))) {
		fail("sethostname after C/R");
		goto kill;
	}
	if (write(go[1], &c, 1) != 1 || waitpid(pid, &status, 0) != pid) {
		fail("the child");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("the child saw other names (status %#x)", status);
		return 1;
	}
	pass();
	return 0;
kill:
	kill(pid, SIGKILL);
	return 1;
}
