#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A child stopped by SIGSTOP and one stopped by SIGTSTP stay stopped (state T) across C/R "
		       "and run again on SIGCONT";
const char *test_author = "Stasis developers";

static int report_fd;
static char my_id;

static void on_cont(int sig)
{
	/* runs only once the child is continued */
	if (write(report_fd, &my_id, 1) != 1)
		_exit(3);
	_exit(0);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, len;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return '?';
	buf[len] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

struct kid {
	int sig;
	char id;
	pid_t pid;
};

static struct kid kids[] = { { SIGSTOP, 'S' }, { SIGTSTP, 'T' } };

static void kill_kids(void)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(kids); i++) {
		if (kids[i].pid <= 0)
			continue;
		kill(kids[i].pid, SIGKILL);
		waitpid(kids[i].pid, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_cont };
	int p[2], status;
	unsigned i;
	char buf[8];
	ssize_t n;

	test_init(argc, argv);

	if (pipe2(p, O_NONBLOCK)) {
		pr_perror("pipe");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(kids); i++) {
		pid_t pid = fork();

		if (pid < 0) {
			pr_perror("fork");
			kill_kids();
			return 1;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			report_fd = p[1];
			my_id = kids[i].id;
			close(p[0]);
			sigemptyset(&sa.sa_mask);
			sigaction(SIGCONT, &sa, NULL);
			/*
			 * The root's group is orphaned (its parent is in another session), and the kernel
			 * discards SIGTSTP there: the SIGTSTP child gets a group of its own.
			 */
			if (kids[i].sig == SIGTSTP)
				setpgid(0, 0);
			/* ready: the handler is in place */
			if (write(report_fd, "r", 1) != 1)
				_exit(4);
			while (1)
				pause();
		}
		kids[i].pid = pid;
		if (kids[i].sig == SIGTSTP)
			setpgid(pid, pid);
		{
			struct pollfd pfd = { .fd = p[0], .events = POLLIN };

			if (poll(&pfd, 1, 10000) != 1 || read(p[0], buf, 1) != 1 || buf[0] != 'r') {
				pr_err("child %d did not get ready\n", pid);
				kill_kids();
				return 1;
			}
		}
		if (kill(pid, kids[i].sig)) {
			pr_perror("kill");
			kill_kids();
			return 1;
		}
		if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status) || WSTOPSIG(status) != kids[i].sig) {
			pr_err("child %d: status %#x, expected stopped by %d\n", pid, status, kids[i].sig);
			kill_kids();
			return 1;
		}
	}
	close(p[1]);

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(kids); i++) {
		char st = proc_state(kids[i].pid);

		if (st != 'T') {
			fail("child %d (stopped by %d) is in state %c after C/R", kids[i].pid, kids[i].sig, st);
			kill_kids();
			return 1;
		}
	}
	/* Stay stopped for a moment: nothing may run (the handler would report) */
	usleep(200000);
	n = read(p[0], buf, sizeof(buf));
	if (n != -1 || errno != EAGAIN) {
		fail("a stopped child ran after C/R (read %zd: %.*s)", n, n > 0 ? (int)n : 0, buf);
		kill_kids();
		return 1;
	}

	for (i = 0; i < ARRAY_SIZE(kids); i++) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };

		if (kill(kids[i].pid, SIGCONT)) {
			fail("SIGCONT");
			kill_kids();
			return 1;
		}
		if (poll(&pfd, 1, 5000) != 1 || read(p[0], buf, 1) != 1 || buf[0] != kids[i].id) {
			fail("child %d did not run its SIGCONT handler", kids[i].pid);
			kill_kids();
			return 1;
		}
		if (waitpid(kids[i].pid, &status, 0) != kids[i].pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("child %d exit status %#x", kids[i].pid, status);
			kill_kids();
			return 1;
		}
		kids[i].pid = 0;
	}

	pass();
	return 0;
}
