#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A child's parent-death signal (PR_SET_PDEATHSIG SIGUSR2 with a handler) and a grandchild's "
		       "(SIGKILL): after C/R PR_GET_PDEATHSIG gives each its own, and when the child exits the "
		       "grandchild gets its signal";
const char *test_author = "Stasis developers";

static volatile int got;

static void handler(int sig)
{
	got = sig;
}

int main(int argc, char **argv)
{
	int go[2], go2[2], ready[2], res[2], status, sig;
	pid_t pid;
	char c;

	test_init(argc, argv);

	if (pipe(go) || pipe(go2) || pipe(ready) || pipe(res)) {
		pr_perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		pid_t gc;

		signal(SIGUSR2, handler);
		if (prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0))
			_exit(2);
		gc = fork();
		if (gc < 0)
			_exit(3);
		if (gc == 0) {
			/* the grandchild: reports its pdeathsig after C/R, then dies with the child */
			close(go[1]);
			close(go2[0]);
			close(go2[1]);
			close(ready[0]);
			close(res[0]);
			if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || write(ready[1], "r", 1) != 1)
				_exit(4);
			if (read(go[0], &c, 1) != 1 || prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0))
				_exit(5);
			if (write(res[1], &sig, sizeof(sig)) != sizeof(sig))
				_exit(6);
			while (1)
				pause();
		}
		close(go[0]);
		close(go[1]);
		close(go2[1]);
		close(ready[0]);
		close(res[0]);
		close(res[1]);
		if (write(ready[1], "r", 1) != 1)
			_exit(7);
		if (read(go2[0], &c, 1) != 1 || prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0))
			_exit(8);
		_exit(sig == SIGUSR2 ? 0 : 9);
	}
	close(go[0]);
	close(go2[0]);
	close(ready[1]);
	close(res[1]);
	if (read(ready[0], &c, 1) != 1 || read(ready[0], &c, 1) != 1) {
		pr_err("the children did not start\n");
		goto err;
	}

	test_daemon();
	test_waitsig();

	/* the grandchild first (it reports, then waits to be killed by the child's exit) */
	if (write(go[1], "g", 1) != 1) {
		fail("write");
		goto err;
	}
	if (read(res[0], &sig, sizeof(sig)) != sizeof(sig) || sig != SIGKILL) {
		fail("the grandchild's pdeath signal is %d, expected SIGKILL", sig);
		goto err;
	}
	if (write(go2[1], "g", 1) != 1) {
		fail("write");
		goto err;
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child's pdeath signal after C/R: %#x (9: not SIGUSR2)", status);
		return 1;
	}
	/* the grandchild dies with the child: its end of res closes */
	if (read(res[0], &c, 1) != 0) {
		fail("the grandchild is still alive after its parent's death");
		return 1;
	}
	pass();
	return 0;
err:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
