#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "Zombies: children that exited with distinct codes or were killed by signals are not reaped "
		       "before C/R; after it they are still zombies and waitpid() returns the same statuses";
const char *test_author = "Stasis developers";

struct zombie {
	int code;	/* exit code, or -signal */
	pid_t pid;
};

static struct zombie zombies[] = {
	{ 0 }, { 3 }, { 42 }, { 255 }, { -SIGKILL }, { -SIGUSR1 }, { -SIGTERM },
};

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

/* waitid(WNOWAIT) does not reap: the status can be looked at without consuming it */
static int peek(struct zombie *z, int restored)
{
	siginfo_t si;
	int want_code = z->code >= 0 ? CLD_EXITED : CLD_KILLED;
	int want_status = z->code >= 0 ? z->code : -z->code;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, z->pid, &si, WEXITED | WNOHANG | WNOWAIT) || si.si_pid != z->pid) {
		if (restored)
			fail("waitid(WNOWAIT) for zombie %d: si_pid %d", z->pid, si.si_pid);
		return 1;
	}
	if (si.si_code != want_code || si.si_status != want_status) {
		if (restored)
			fail("zombie %d: si_code %d si_status %d, expected %d %d", z->pid, si.si_code, si.si_status,
			     want_code, want_status);
		else
			pr_err("zombie %d: si_code %d si_status %d, expected %d %d\n", z->pid, si.si_code,
			       si.si_status, want_code, want_status);
		return 1;
	}
	if (proc_state(z->pid) != 'Z') {
		if (restored)
			fail("pid %d is in state %c, expected Z", z->pid, proc_state(z->pid));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit nocore = { 0, 0 };
	unsigned i, tries;
	int status;
	pid_t pid;

	test_init(argc, argv);

	for (i = 0; i < ARRAY_SIZE(zombies); i++) {
		pid = fork();
		if (pid < 0) {
			pr_perror("fork");
			return 1;
		}
		if (pid == 0) {
			setrlimit(RLIMIT_CORE, &nocore);
			if (zombies[i].code >= 0)
				_exit(zombies[i].code);
			signal(-zombies[i].code, SIG_DFL); /* the library catches SIGTERM */
			raise(-zombies[i].code);
			_exit(99);
		}
		zombies[i].pid = pid;
	}
	/* Wait until every child is dead (but not reaped) */
	for (i = 0; i < ARRAY_SIZE(zombies); i++) {
		for (tries = 0; peek(&zombies[i], 0); tries++) {
			if (tries > 2000) {
				pr_err("child %d did not become a zombie with the expected status\n", zombies[i].pid);
				return 1;
			}
			usleep(5000);
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(zombies); i++)
		if (peek(&zombies[i], 1))
			return 1;

	/* Reap them in reverse order and check the statuses */
	for (i = ARRAY_SIZE(zombies); i-- > 0;) {
		struct zombie *z = &zombies[i];

		status = -1;
		pid = waitpid(z->pid, &status, WNOHANG);
		if (pid != z->pid) {
			fail("waitpid(%d) = %d", z->pid, pid);
			return 1;
		}
		if (z->code >= 0 ? !WIFEXITED(status) || WEXITSTATUS(status) != z->code
				 : !WIFSIGNALED(status) || WTERMSIG(status) != -z->code || WCOREDUMP(status)) {
			fail("zombie %d: status %#x, expected %s %d", z->pid, status,
			     z->code >= 0 ? "exit code" : "signal", z->code >= 0 ? z->code : -z->code);
			return 1;
		}
	}
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD) {
		fail("an extra child is left");
		return 1;
	}

	pass();
	return 0;
}
