#include <linux/keyctl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "An empty named session keyring (KEYCTL_JOIN_SESSION_KEYRING, as runc gives a container) "
		       "with permissions of its own (KEYCTL_SETPERM), shared by the test and its child (fork): after "
		       "C/R both have one session keyring again, of that name, owner and permissions, still empty";
const char *test_author = "Stasis developers";

/* possessor: all; user: view, search; group: view (not the kernel's default 0x3f1b0000) */
#define PERM 0x3f090100

static long keyctl(int cmd, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
	return syscall(SYS_keyctl, cmd, a2, a3, a4, a5);
}

/* the session keyring must be an empty keyring of that name, owner and perm */
static int check_ring(long ring, const char *name, const char *what)
{
	char desc[256], want[256];
	long n;

	n = keyctl(KEYCTL_DESCRIBE, ring, (unsigned long)desc, sizeof(desc), 0);
	snprintf(want, sizeof(want), "keyring;%d;%d;%08x;%s", (int)getuid(), (int)getgid(), PERM, name);
	if (n <= 0 || strcmp(desc, want)) {
		fail("%s (%ld) is described as \"%s\", expected \"%s\"", what, ring, n > 0 ? desc : "?", want);
		return 1;
	}
	n = keyctl(KEYCTL_READ, ring, 0, 0, 0);
	if (n != 0) {
		fail("%s (%ld) holds %ld bytes of key ids, expected none", what, ring, n);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int go[2], back[2], status;
	long sess, id, theirs;
	char name[64];
	pid_t pid;

	test_init(argc, argv);

	ssprintf(name, "zdtm-ses00.%d.%ld", getpid(), (long)time(NULL));
	sess = keyctl(KEYCTL_JOIN_SESSION_KEYRING, (unsigned long)name, 0, 0, 0);
	if (sess < 0)
		return pr_perror("KEYCTL_JOIN_SESSION_KEYRING %s", name);
	if (keyctl(KEYCTL_SETPERM, sess, PERM, 0, 0))
		return pr_perror("KEYCTL_SETPERM");
	if (check_ring(sess, name, "the session keyring"))
		return 1;
	if (pipe(go) || pipe(back))
		return pr_perror("pipe");
	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		char c;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(go[1]);
		close(back[0]);
		if (write(back[1], "r", 1) != 1) /* its state is set: the parent may go on */
			_exit(2);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		id = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
		if (write(back[1], &id, sizeof(id)) != sizeof(id))
			_exit(3);
		_exit(check_ring(id, name, "the child's session keyring after C/R") ? 4 : 0);
	}
	close(go[0]);
	close(back[1]);
	{
		char c;

		if (read(back[0], &c, 1) != 1) /* the child has closed its ends */
			return pr_perror("the child is not ready");
	}

	test_daemon();
	test_waitsig();

	id = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
	if (id < 0) {
		pr_perror("KEYCTL_GET_KEYRING_ID");
		kill(pid, SIGKILL);
		return 1;
	}
	if (check_ring(id, name, "the session keyring after C/R")) {
		kill(pid, SIGKILL);
		return 1;
	}
	if (write(go[1], "g", 1) != 1 || read(back[0], &theirs, sizeof(theirs)) != sizeof(theirs)) {
		pr_perror("the child's session keyring id");
		kill(pid, SIGKILL);
		return 1;
	}
	if (waitpid(pid, &status, 0) != pid)
		return pr_perror("waitpid");
	if (theirs != id) {
		fail("the child's session keyring is %ld after C/R, the parent's %ld: no longer one keyring", theirs,
		     id);
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child failed after C/R (status %#x: 2 = go, 3 = write, 4 = its keyring)", status);
		return 1;
	}
	pass();
	return 0;
}
