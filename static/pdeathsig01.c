#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A child keeps its parent-death signal (PR_SET_PDEATHSIG) across C/R: the value reads back "
		       "and the signal really arrives when its parent exits after restore";
const char *test_author = "Stasis developers";

/*
 * root (subreaper) -> middle -> child.  The child sets PR_SET_PDEATHSIG(PDSIG) with a handler.
 * After C/R: the child reports PR_GET_PDEATHSIG; then the middle exits and the child must receive PDSIG.
 */
#define PDSIG (SIGRTMIN + 5)

static int rep[2];		/* child/middle -> root */
static int cmd_child[2], cmd_middle[2];

struct report {
	char what;	/* 'R' ready, 'V' value, 'S' signal */
	int val;
	pid_t pid;
};

static void send_rep(char what, int val)
{
	struct report r = { what, val, getpid() };

	if (write(rep[1], &r, sizeof(r)) != sizeof(r))
		_exit(5);
}

static void on_pdeath(int sig, siginfo_t *si, void *uc)
{
	send_rep('S', sig);
	_exit(0);
}

static void child(void)
{
	struct sigaction sa = { .sa_sigaction = on_pdeath, .sa_flags = SA_SIGINFO };
	int v = -1;
	char c;

	sigemptyset(&sa.sa_mask);
	if (sigaction(PDSIG, &sa, NULL) || prctl(PR_SET_PDEATHSIG, PDSIG, 0, 0, 0))
		_exit(2);
	send_rep('R', 0);
	while (1) {
		if (read(cmd_child[0], &c, 1) != 1)
			_exit(3); /* the root is gone */
		if (prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0))
			v = -1;
		send_rep('V', v);
	}
}

static int get_rep(struct report *r, int ms)
{
	struct pollfd pfd = { .fd = rep[0], .events = POLLIN };

	if (poll(&pfd, 1, ms) != 1 || read(rep[0], r, sizeof(*r)) != sizeof(*r))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	pid_t middle, kid = 0;
	struct report r;
	int status;
	char c;

	test_init(argc, argv);

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) || pipe(rep) || pipe(cmd_child) || pipe(cmd_middle)) {
		pr_perror("setup");
		return 1;
	}
	middle = fork();
	if (middle < 0) {
		pr_perror("fork");
		return 1;
	}
	if (middle == 0) {
		pid_t pid;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		/*
		 * before the child exists: the root waits for the child's 'R' only, so the middle must
		 * not change its fds after that
		 */
		close(cmd_middle[1]);
		pid = fork();
		if (pid < 0)
			_exit(1);
		if (pid == 0) {
			close(cmd_child[1]);
			child();
		}
		/* exit when told to (or when the root is gone) */
		if (read(cmd_middle[0], &c, 1) != 1)
			_exit(4);
		_exit(0);
	}
	close(cmd_child[0]);
	close(cmd_middle[0]);
	if (get_rep(&r, 10000) || r.what != 'R') {
		pr_err("the child did not get ready\n");
		goto err;
	}
	kid = r.pid;
	if (write(cmd_child[1], "?", 1) != 1 || get_rep(&r, 10000) || r.what != 'V' || r.val != PDSIG) {
		pr_err("the child's pdeathsig is %d before C/R, expected %d\n", r.val, PDSIG);
		goto err;
	}

	test_daemon();
	test_waitsig();

	if (write(cmd_child[1], "?", 1) != 1 || get_rep(&r, 10000) || r.what != 'V' || r.pid != kid) {
		fail("no answer from the child %d after C/R", kid);
		goto err;
	}
	if (r.val != PDSIG) {
		fail("the child's parent-death signal is %d after C/R, expected %d", r.val, PDSIG);
		goto err;
	}
	/* Let the middle process exit: the child must get PDSIG */
	if (write(cmd_middle[1], "x", 1) != 1) {
		fail("write to the middle process");
		goto err;
	}
	if (waitpid(middle, &status, 0) != middle || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("middle process: status %#x", status);
		goto err;
	}
	middle = 0;
	if (get_rep(&r, 10000) || r.what != 'S' || r.pid != kid || r.val != PDSIG) {
		fail("the child did not receive its parent-death signal %d (report %c %d)", PDSIG, r.what, r.val);
		goto err;
	}
	/* The child is now ours (subreaper) and exits 0 from the handler */
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("child exit status %#x", status);
		goto err;
	}

	pass();
	return 0;
err:
	if (kid > 0)
		kill(kid, SIGKILL);
	if (middle > 0)
		kill(middle, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	return 1;
}
