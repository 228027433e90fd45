#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Two named FIFOs (--name_master, --name_slave), each opened by a parent and a child with a "
		       "read-only and a write-only end: data queued both ways before C/R, exchanged after it";
const char *test_author = "Stasis developers";

static char *name_master, *name_slave;
TEST_OPTION(name_master, string, "the FIFO from the parent to the child", 1);
TEST_OPTION(name_slave, string, "the FIFO from the child to the parent", 1);

int main(int argc, char **argv)
{
	int to_kid, from_kid, go[2], status;
	char buf[32] = "", c;
	pid_t pid;

	test_init(argc, argv);

	if (mkfifo(name_master, 0600) || mkfifo(name_slave, 0600) || pipe(go)) {
		pr_perror("mkfifo");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		int in, out;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(go[1]);
		in = open(name_master, O_RDONLY);
		out = open(name_slave, O_WRONLY);
		if (in < 0 || out < 0 || write(out, "kid:1;", 6) != 6)
			_exit(2);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		if ((fcntl(in, F_GETFL) & O_ACCMODE) != O_RDONLY || (fcntl(out, F_GETFL) & O_ACCMODE) != O_WRONLY)
			_exit(4);
		if (read_data(in, (unsigned char *)buf, 14) || memcmp(buf, "parent:1;pa:2;", 14))
			_exit(5);
		_exit(write(out, "kid:2;", 6) == 6 ? 0 : 6);
	}
	close(go[0]);
	to_kid = open(name_master, O_WRONLY);
	from_kid = open(name_slave, O_RDONLY);
	if (to_kid < 0 || from_kid < 0 || write(to_kid, "parent:1;", 9) != 9 || read_data(from_kid, (unsigned char *)buf, 6) ||
	    memcmp(buf, "kid:1;", 6)) {
		pr_perror("open/exchange");
		goto err;
	}

	test_daemon();
	test_waitsig();

	if (write(to_kid, "pa:2;", 5) != 5 || write(go[1], "g", 1) != 1) {
		fail("write");
		goto err;
	}
	memset(buf, 0, sizeof(buf));
	if (read_data(from_kid, (unsigned char *)buf, 6) || memcmp(buf, "kid:2;", 6)) {
		fail("read '%s' from the child", buf);
		goto err;
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child: %#x", status);
		return 1;
	}
	if (read(from_kid, &c, 1) != 0) {
		fail("no EOF after the child's end");
		return 1;
	}
	pass();
	return 0;
err:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
