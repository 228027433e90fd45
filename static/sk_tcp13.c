#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "sk_inet.h"

const char *test_doc = "A TCP connection between two processes of the tree, one end also held by a third "
		       "process (one socket, two fds), data queued both ways; after C/R every byte arrives, the "
		       "shared socket is still one socket, and the connection goes on";
const char *test_author = "Stasis developers";

static int a, b, ready[2];

static int child(int go_fd, int done_fd, int stream)
{
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (write(ready[1], "r", 1) != 1 || read(go_fd, &c, 1) != 1)
		return 2;
	if (sk_expect(b, stream, 0, 20000))
		return 3;
	if (write(done_fd, "k", 1) != 1)
		return 4;
	return 0;
}

int main(int argc, char **argv)
{
	int go[2], done[2], status;
	pid_t kid, holder;
	char c;

	test_init(argc, argv);

	if (sk_pair(AF_INET, "127.0.0.1", &a, &b) || pipe(go) || pipe(done) || pipe(ready))
		return pr_perror("setup");
	kid = fork();
	if (kid < 0)
		return pr_perror("fork");
	if (kid == 0) {
		close(a);
		_exit(child(go[0], done[1], 1));
	}
	holder = fork();
	if (holder < 0)
		return pr_perror("fork");
	if (holder == 0) {
		/* holds the same socket as the parent's a */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(b);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		if (sk_fill(a, 9, 0, 10) != 10)
			_exit(3);
		_exit(0);
	}
	close(b);
	if (sk_fill(a, 1, 0, 20000) != 20000)
		return pr_perror("write");
	if (read(ready[0], &c, 1) != 1 || read(ready[0], &c, 1) != 1)
		return pr_perror("children not ready");
	usleep(20000); /* they block in read() */

	test_daemon();
	test_waitsig();

	if (write(go[1], "gg", 2) != 2 || read(done[0], &c, 1) != 1) {
		fail("the child did not get its 20000 bytes");
		return 1;
	}
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("child status %#x", status);
		return 1;
	}
	if (waitpid(holder, &status, 0) != holder || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("holder status %#x", status);
		return 1;
	}
	pass();
	return 0;
}
