#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "The master in the parent, the slave in a child (exclusive, no echo, no output "
		       "processing) blocked in a canonical read: after C/R the child reads the line the parent "
		       "writes, answers it, still exclusive; the parent cannot open the slave again";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int master, idx, ready[2], status, n;
	char name[64], buf[64];
	struct termios t;
	pid_t pid;

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master) || ioctl(master, TIOCGPTN, &idx))
		return pr_perror("posix_openpt");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	if (pipe(ready))
		return pr_perror("pipe");
	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		int slave, v;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(master);
		close(ready[0]);
		slave = open(name, O_RDWR | O_NOCTTY);
		if (slave < 0 || tcgetattr(slave, &t))
			_exit(2);
		t.c_lflag &= ~(ECHO | ECHONL);
		t.c_oflag &= ~OPOST;
		if (tcsetattr(slave, TCSANOW, &t) || ioctl(slave, TIOCEXCL))
			_exit(3);
		if (write(ready[1], "r", 1) != 1)
			_exit(4);
		n = read(slave, buf, sizeof(buf));
		if (n != 6 || memcmp(buf, "hello\n", 6))
			_exit(5);
		if (ioctl(slave, TIOCGEXCL, &v) || v != 1)
			_exit(6);
		if (write(slave, "HELLO\n", 6) != 6)
			_exit(7);
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], buf, 1) != 1)
		return pr_perror("the child did not get ready");

	test_daemon();
	test_waitsig();

	if (tcgetattr(master, &t) || (t.c_lflag & ECHO) || (t.c_oflag & OPOST) || !(t.c_lflag & ICANON)) {
		fail("termios after C/R: lflag %#x oflag %#x", t.c_lflag, t.c_oflag);
		return 1;
	}
	if (getuid() != 0) {
		int fd = open(name, O_RDWR | O_NOCTTY);

		if (fd >= 0 || errno != EBUSY) {
			fail("opening the exclusive slave gave %d (errno %d), expected EBUSY", fd, errno);
			return 1;
		}
	}
	if (write(master, "hello\n", 6) != 6)
		return pr_perror("write");
	n = read(master, buf, sizeof(buf));
	if (n != 6 || memcmp(buf, "HELLO\n", 6)) {
		fail("the child answered %d bytes '%.*s'", n, n > 0 ? n : 0, buf);
		return 1;
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child ended with status %#x", status);
		return 1;
	}
	pass();
	return 0;
}
