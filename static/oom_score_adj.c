#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "oom_score_adj of the test (raised to 300) and of a child (raised to 1000): after C/R "
		       "each reads back its own value";
const char *test_author = "Stasis developers";

static int get(pid_t pid)
{
	char path[64], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -10000;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -10000;
	buf[n] = 0;
	return atoi(buf);
}

static int set(int v)
{
	char buf[32];
	int fd = open("/proc/self/oom_score_adj", O_WRONLY), n, ret;

	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%d", v);
	ret = write(fd, buf, n) == n ? 0 : -1;
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	int go[2], ready[2], status;
	pid_t pid;
	char c;

	test_init(argc, argv);

	if (pipe(go) || pipe(ready) || set(300)) {
		pr_perror("setup");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(go[1]);
		close(ready[0]);
		if (set(1000) || write(ready[1], "r", 1) != 1)
			_exit(2);
		if (read(go[0], &c, 1) < 0)
			_exit(3);
		_exit(get(getpid()) == 1000 ? 0 : 4);
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child did not set its value\n");
		goto err;
	}

	test_daemon();
	test_waitsig();

	if (get(getpid()) != 300 || get(pid) != 1000) {
		fail("oom_score_adj %d and %d after C/R, expected 300 and 1000", get(getpid()), get(pid));
		goto err;
	}
	close(go[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child: %#x", status);
		return 1;
	}
	pass();
	return 0;
err:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
