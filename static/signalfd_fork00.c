#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A signalfd for SIGUSR1 shared by a parent and its child (fork), SIGUSR1 pending in both "
		       "with different sigqueue() values before the dump: after C/R it is one description (kcmp) "
		       "and each process reads its own signal (the one queued to it) from it, then nothing";
const char *test_author = "Stasis developers";

static int own_signal(int fd, int value)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return 1;
	if (si.ssi_signo != SIGUSR1 || si.ssi_code != SI_QUEUE || si.ssi_int != value)
		return 2;
	if (read(fd, &si, sizeof(si)) != -1 || errno != EAGAIN)
		return 3;
	return 0;
}

int main(int argc, char **argv)
{
	int fd, ping, ready[2], status, r;
	union sigval sv;
	sigset_t set;
	eventfd_t e;
	char c;
	pid_t pid;

	test_init(argc, argv);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return pr_perror("sigprocmask");
	fd = signalfd(-1, &set, SFD_NONBLOCK);
	ping = eventfd(0, 0);
	if (fd < 0 || ping < 0 || pipe(ready))
		return pr_perror("signalfd/eventfd");
	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		sv.sival_int = 200;
		if (sigqueue(getpid(), SIGUSR1, sv))
			_exit(10);
		if (write(ready[1], "r", 1) != 1) /* its signal is pending: the parent may say it is ready */
			_exit(12);
		if (eventfd_read(ping, &e))
			_exit(11);
		_exit(own_signal(fd, 200));
	}
	sv.sival_int = 100;
	if (sigqueue(getpid(), SIGUSR1, sv))
		return pr_perror("sigqueue");
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1 || c != 'r') {
		pr_err("the child did not get ready\n");
		kill(pid, SIGKILL);
		return 1;
	}

	test_daemon();
	test_waitsig();

	r = syscall(SYS_kcmp, getpid(), pid, KCMP_FILE, fd, fd);
	if (r != 0) {
		fail("kcmp of the shared signalfd gives %d after C/R", r);
		kill(pid, SIGKILL);
		return 1;
	}
	if (eventfd_write(ping, 1) || waitpid(pid, &status, 0) != pid)
		return pr_perror("eventfd_write/waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child did not read its own SIGUSR1 (value 200) after C/R (status %#x)", status);
		return 1;
	}
	r = own_signal(fd, 100);
	if (r) {
		fail("the parent did not read its own SIGUSR1 (value 100) after C/R (%d)", r);
		return 1;
	}
	pass();
	return 0;
}
