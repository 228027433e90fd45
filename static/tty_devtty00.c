#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "/dev/tty opened by the session leader (its controlling terminal is a pty of its own) and "
		       "shared with a child: after C/R the fd is still /dev/tty, leads to the same pty (TIOCGDEV), "
		       "and bytes go both ways through it";
const char *test_author = "Stasis developers";

static int check_devtty(int fd, int slave, const char *who)
{
	struct stat st, sl;
	unsigned int dev;
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return pr_perror("%s: readlink", who);
	link[n] = 0;
	if (strcmp(link, "/dev/tty")) {
		fail("%s: fd %d is %s, not /dev/tty", who, fd, link);
		return 1;
	}
	if (fstat(fd, &st) || fstat(slave, &sl))
		return pr_perror("%s: fstat", who);
	if (st.st_rdev != makedev(5, 0)) {
		fail("%s: fd %d has rdev %u:%u", who, fd, major(st.st_rdev), minor(st.st_rdev));
		return 1;
	}
	if (ioctl(fd, TIOCGDEV, &dev))
		return pr_perror("%s: TIOCGDEV", who);
	if (dev != sl.st_rdev) {
		fail("%s: /dev/tty leads to %u:%u, the pty is %u:%u", who, major(dev), minor(dev),
		     major(sl.st_rdev), minor(sl.st_rdev));
		return 1;
	}
	return 0;
}

static int through(int master, int tty, char tag)
{
	char out[4] = { 'o', tag, '\n', 0 }, in[8];

	if (write(tty, out, 2) != 2)
		return pr_perror("write /dev/tty");
	if (read(master, in, sizeof(in)) != 2 || memcmp(in, out, 2)) {
		fail("the master did not read what /dev/tty wrote");
		return 1;
	}
	out[0] = 'i';
	if (write(master, out, 2) != 2)
		return pr_perror("write master");
	if (read(tty, in, sizeof(in)) != 2 || memcmp(in, out, 2)) {
		fail("/dev/tty did not read what the master wrote");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int master, slave, tty, idx, p[2], q[2], status;
	struct termios t;
	char name[64], c;
	pid_t pid;

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || unlockpt(master) || ioctl(master, TIOCGPTN, &idx))
		return pr_perror("posix_openpt");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || ioctl(slave, TIOCSCTTY, 0))
		return pr_perror("TIOCSCTTY");
	if (tcgetattr(slave, &t))
		return pr_perror("tcgetattr");
	cfmakeraw(&t);
	if (tcsetattr(slave, TCSANOW, &t))
		return pr_perror("tcsetattr");
	tty = open("/dev/tty", O_RDWR);
	if (tty < 0)
		return pr_perror("open /dev/tty");
	if (check_devtty(tty, slave, "before"))
		return 1;
	if (pipe(p) || pipe(q))
		return pr_perror("pipe");
	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(p[1]);
		close(q[0]);
		if (write(q[1], "r", 1) != 1) /* its fds are final: the parent may report ready */
			_exit(2);
		if (read(p[0], &c, 1) != 1)
			_exit(3);
		if (check_devtty(tty, slave, "child"))
			_exit(4);
		if (write(tty, "c", 1) != 1)
			_exit(5);
		_exit(0);
	}
	close(p[0]);
	close(q[1]);
	if (read(q[0], &c, 1) != 1)
		return pr_perror("the child did not start");

	test_daemon();
	test_waitsig();

	if (check_devtty(tty, slave, "after") || through(master, tty, '1'))
		return 1;
	if (write(p[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fail("the child ended with %#x", status);
		return 1;
	}
	if (read(master, &c, 1) != 1 || c != 'c') {
		fail("the child's byte through /dev/tty did not reach the master");
		return 1;
	}
	if (through(master, tty, '2'))
		return 1;
	pass();
	return 0;
}
