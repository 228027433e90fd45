#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "A read lease (F_SETLEASE F_RDLCK) the test holds on its own file: F_GETLEASE still "
		       "returns F_RDLCK, and another process's non-blocking open for writing breaks it "
		       "(EWOULDBLOCK, lease-break signal to the test)";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "name of the test file", 1);

static volatile sig_atomic_t got_sig, got_fd = -1;

static void on_sigio(int sig, siginfo_t *si, void *uc)
{
	got_sig = sig;
	got_fd = si->si_fd;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigio, .sa_flags = SA_SIGINFO | SA_RESTART };
	int fd, wfd, lease, status, ret = 1, i;
	pid_t pid;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	wfd = open(filename, O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (wfd < 0) {
		pr_perror("create %s", filename);
		return 1;
	}
	if (write(wfd, "lease", 5) != 5) {
		pr_perror("write");
		close(wfd);
		goto out_unlink;
	}
	close(wfd);	/* a read lease needs no writers */
	fd = open(filename, O_RDONLY);
	if (fd < 0) {
		pr_perror("open");
		goto out_unlink;
	}
	/* the break is signalled with SIGUSR1 and si_fd */
	if (fcntl(fd, F_SETSIG, SIGUSR1) || fcntl(fd, F_SETLEASE, F_RDLCK)) {
		pr_perror("F_SETSIG/F_SETLEASE");
		goto out;
	}
	lease = fcntl(fd, F_GETLEASE);
	if (lease != F_RDLCK) {
		pr_err("F_GETLEASE %d right after F_SETLEASE F_RDLCK\n", lease);
		goto out;
	}

	test_daemon();
	test_waitsig();

	lease = fcntl(fd, F_GETLEASE);
	if (lease != F_RDLCK) {
		fail("F_GETLEASE is %d after C/R, expected F_RDLCK (%d)", lease, F_RDLCK);
		goto out;
	}
	if (fcntl(fd, F_GETSIG) != SIGUSR1) {
		fail("F_GETSIG is %d after C/R, expected SIGUSR1", fcntl(fd, F_GETSIG));
		goto out;
	}
	/* the lease is really in the kernel's way: a writer's O_NONBLOCK open is refused and breaks it */
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		goto out;
	}
	if (pid == 0) {
		int w;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		w = open(filename, O_WRONLY | O_NONBLOCK);
		if (w >= 0)
			_exit(1);
		_exit(errno == EWOULDBLOCK ? 0 : 2);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("a writer's O_NONBLOCK open did not fail with EWOULDBLOCK after C/R (child status %#x): "
		     "no read lease in the kernel", status);
		goto out;
	}
	for (i = 0; i < 500 && !got_sig; i++)
		usleep(10000);
	if (got_sig != SIGUSR1 || got_fd != fd) {
		errno = 0;
		fail("no lease-break signal after C/R (signal %d, si_fd %d, expected %d and %d)", (int)got_sig,
		     (int)got_fd, SIGUSR1, fd);
		goto out;
	}
	pass();
	ret = 0;
out:
	fcntl(fd, F_SETLEASE, F_UNLCK);
	close(fd);
out_unlink:
	unlink(filename);
	return ret;
}
