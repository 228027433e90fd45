#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "flock locks on three files: an exclusive one, a shared one held by the parent and a child "
		       "through one description, and a shared one of two descriptions: after C/R a new "
		       "description gets EWOULDBLOCK where a lock conflicts and the lock where none does";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

static char names[3][4096];

static int try(int n, int op)
{
	int fd = open(names[n], O_RDONLY), ret;

	if (fd < 0)
		return -2;
	ret = flock(fd, op | LOCK_NB);
	if (ret && errno != EWOULDBLOCK)
		ret = -2;
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	int ex, sh, sh2a, sh2b, go[2], ready[2], status, i;
	pid_t kid;
	char c;

	test_init(argc, argv);

	for (i = 0; i < 3; i++) {
		snprintf(names[i], sizeof(names[i]), "%s.%d", filename, i);
		close(open(names[i], O_CREAT | O_RDWR, 0644));
	}
	ex = open(names[0], O_RDONLY);
	sh = open(names[1], O_RDONLY);
	sh2a = open(names[2], O_RDONLY);
	sh2b = open(names[2], O_RDONLY);
	if (ex < 0 || sh < 0 || sh2a < 0 || sh2b < 0 || pipe(go) || pipe(ready) || flock(ex, LOCK_EX) || flock(sh, LOCK_SH) ||
	    flock(sh2a, LOCK_SH) || flock(sh2b, LOCK_SH)) {
		pr_perror("setup");
		return 1;
	}
	kid = fork();
	if (kid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (kid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(go[1]);
		close(ex);
		close(sh2a);
		close(sh2b);
		close(ready[0]);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		close(ready[1]);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1); /* holds sh */
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child did not start\n");
		goto err;
	}
	close(ready[0]);

	test_daemon();
	test_waitsig();

	if (try(0, LOCK_SH) != -1 || try(0, LOCK_EX) != -1) {
		fail("the exclusive lock is lost");
		goto err;
	}
	if (try(1, LOCK_SH) != 0 || try(1, LOCK_EX) != -1) {
		fail("the shared lock is lost or exclusive");
		goto err;
	}
	if (try(2, LOCK_SH) != 0 || try(2, LOCK_EX) != -1) {
		fail("the shared locks of two descriptions are lost");
		goto err;
	}
	/* the child's copy of the shared description: closing ours keeps the lock */
	close(sh);
	if (try(1, LOCK_EX) != -1) {
		fail("the child's description lost the lock");
		goto err;
	}
	if (write(go[1], "g", 1) != 1 || waitpid(kid, &status, 0) != kid || status) {
		fail("child %#x", status);
		return 1;
	}
	if (try(1, LOCK_EX) != 0) {
		fail("the lock is not released with the last description");
		return 1;
	}
	/* our exclusive lock converts to shared */
	if (flock(ex, LOCK_SH | LOCK_NB) || try(0, LOCK_SH) != 0) {
		fail("converting the exclusive lock");
		return 1;
	}
	pass();
	return 0;
err:
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	return 1;
}
