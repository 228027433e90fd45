#include <signal.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Real, effective and saved ids all different and filesystem ids not the effective ones "
		       "(setresuid/setresgid, setfsuid/setfsgid) in a child of the test (root: desc flag suid), and the test's own ids the "
		       "harness gave it (ZDTM_UID/ZDTM_GID when it is not root): after C/R each is the same";
const char *test_author = "Stasis developers";

#define R 18001
#define E 18002
#define S 18003
#define F 18004

static int check(uid_t r, uid_t e, uid_t s, uid_t f, gid_t gr, gid_t ge, gid_t gs, gid_t gf)
{
	uid_t a, b, c;
	gid_t x, y, z;

	if (getresuid(&a, &b, &c) || a != r || b != e || c != s)
		return 1;
	if (getresgid(&x, &y, &z) || x != gr || y != ge || z != gs)
		return 2;
	/* setfs*id returns the old value: set it to itself to read it */
	if ((uid_t)setfsuid(-1) != f || (gid_t)setfsgid(-1) != gf)
		return 3;
	return 0;
}

int main(int argc, char **argv)
{
	int go[2], ready[2], status, ret;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char c;

	test_init(argc, argv);

	uid = getuid();
	gid = getgid();
	if (getenv("ZDTM_UID") && uid && uid != (uid_t)atoi(getenv("ZDTM_UID"))) {
		pr_err("uid %d is not ZDTM_UID %s\n", uid, getenv("ZDTM_UID"));
		return 1;
	}
	if (pipe(go) || pipe(ready)) {
		pr_perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(go[1]);
		close(ready[0]);
		/* gids first: after the uids change we may not change them */
		if (setresgid(R, E, S) || setfsgid(F) < 0 || setresuid(R, E, S))
			_exit(10);
		setfsuid(S); /* no longer root: the fs uid may only be one of the others, the saved one here */
		if (check(R, E, S, S, R, E, S, F))
			_exit(11);
		if (write(ready[1], "r", 1) != 1)
			_exit(12);
		if (read(go[0], &c, 1) != 1)
			_exit(13);
		_exit(check(R, E, S, S, R, E, S, F));
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child could not set its ids (the desc's suid flag runs the test as root)\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	ret = check(uid, uid, uid, uid, gid, gid, gid, gid);
	if (ret) {
		fail("the test's own ids changed (%d)", ret);
		kill(pid, SIGKILL);
		return 1;
	}
	if (write(go[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child's ids after C/R: %#x (1 uids, 2 gids, 3 fs ids)", status);
		return 1;
	}
	pass();
	return 0;
}
