#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>

#include "zdtmtst.h"

const char *test_doc = "A non-blocking signalfd for SIGUSR1 and SIGRTMIN+2 (both blocked), a second blocking one "
		       "for SIGUSR2; SIGUSR1 and two SIGRTMIN+2 queued with sigqueue() values before the dump: "
		       "after C/R the mask (fdinfo), flags, and each siginfo read from the signalfd are intact, "
		       "then EAGAIN; SIGUSR2 sent after C/R is read from the second one";
const char *test_author = "Stasis developers";

static int read_mask(int fd, unsigned long long *mask)
{
	char path[64], line[128];
	FILE *f;
	int found = 0;

	ssprintf(path, "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "sigmask: %llx", mask) == 1)
			found = 1;
	fclose(f);
	return found ? 0 : -1;
}

static int expect(int fd, int signo, int value)
{
	struct signalfd_siginfo si;
	ssize_t n;

	n = read(fd, &si, sizeof(si));
	if (n != sizeof(si)) {
		fail("read from the signalfd gives %zd after C/R, expected signal %d", n, signo);
		return 1;
	}
	if ((int)si.ssi_signo != signo || si.ssi_code != SI_QUEUE || si.ssi_int != value ||
	    si.ssi_pid != (uint32_t)getpid() || si.ssi_uid != getuid()) {
		fail("siginfo after C/R: signo %u code %d int %d pid %u uid %u; expected %d %d %d %d %d", si.ssi_signo,
		     si.ssi_code, si.ssi_int, si.ssi_pid, si.ssi_uid, signo, SI_QUEUE, value, getpid(), getuid());
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long m1, m2, after;
	struct signalfd_siginfo si;
	union sigval sv;
	sigset_t set, set2;
	int fd, fd2, fl, fl2;

	test_init(argc, argv);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN + 2);
	sigemptyset(&set2);
	sigaddset(&set2, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || sigprocmask(SIG_BLOCK, &set2, NULL))
		return pr_perror("sigprocmask");
	fd = signalfd(-1, &set, SFD_NONBLOCK);
	fd2 = signalfd(-1, &set2, SFD_CLOEXEC);
	if (fd < 0 || fd2 < 0)
		return pr_perror("signalfd");
	sv.sival_int = 1234;
	if (sigqueue(getpid(), SIGUSR1, sv))
		return pr_perror("sigqueue");
	sv.sival_int = 55;
	if (sigqueue(getpid(), SIGRTMIN + 2, sv))
		return pr_perror("sigqueue");
	sv.sival_int = 56;
	if (sigqueue(getpid(), SIGRTMIN + 2, sv))
		return pr_perror("sigqueue");
	fl = fcntl(fd, F_GETFL);
	fl2 = fcntl(fd2, F_GETFL);
	if (read_mask(fd, &m1) || read_mask(fd2, &m2))
		return pr_err("no sigmask in fdinfo\n");

	test_daemon();
	test_waitsig();

	if (read_mask(fd, &after) || after != m1 || read_mask(fd2, &after) || after != m2) {
		fail("sigmask in fdinfo after C/R differs (%#llx %#llx before)", m1, m2);
		return 1;
	}
	if (fcntl(fd, F_GETFL) != fl || fcntl(fd2, F_GETFL) != fl2 || fcntl(fd, F_GETFD) != 0 ||
	    fcntl(fd2, F_GETFD) != FD_CLOEXEC) {
		fail("flags after C/R: %#x %#x (were %#x %#x)", fcntl(fd, F_GETFL), fcntl(fd2, F_GETFL), fl, fl2);
		return 1;
	}
	if (expect(fd, SIGUSR1, 1234) || expect(fd, SIGRTMIN + 2, 55) || expect(fd, SIGRTMIN + 2, 56))
		return 1;
	if (read(fd, &si, sizeof(si)) != -1 || errno != EAGAIN) {
		fail("a fourth read from the non-blocking signalfd did not fail with EAGAIN");
		return 1;
	}
	sv.sival_int = 77;
	if (sigqueue(getpid(), SIGUSR2, sv))
		return pr_perror("sigqueue");
	if (expect(fd2, SIGUSR2, 77))
		return 1;
	pass();
	return 0;
}
