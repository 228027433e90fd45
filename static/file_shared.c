#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "One open file description shared by a parent and two children (the offset moves for all), "
		       "and a second description of the same file of the parent's own (its own offset): after C/R "
		       "the children's writes through the shared one follow each other, the own one stays put";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define NR 2

int main(int argc, char **argv)
{
	int shared, own, go[NR][2], ready[2], status, i;
	pid_t kids[NR];
	char buf[64];
	char c;

	test_init(argc, argv);

	shared = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0644);
	own = open(filename, O_RDONLY);
	if (shared < 0 || own < 0 || pipe(go[0]) || pipe(go[1]) || pipe(ready) || write(shared, "0123456789", 10) != 10 || lseek(own, 3, SEEK_SET) != 3) {
		pr_perror("setup");
		return 1;
	}
	for (i = 0; i < NR; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			pr_perror("fork");
			return 1;
		}
		if (kids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			close(go[0][1]);
			close(go[1][1]);
			close(go[!i][0]);
			close(ready[0]);
			if (write(ready[1], "r", 1) != 1)
				_exit(4);
			close(ready[1]);
			if (read(go[i][0], &c, 1) != 1)
				_exit(2);
			/* the offset is the shared one: 10 for the first writer, 12 for the second */
			if (write(shared, i ? "BB" : "AA", 2) != 2)
				_exit(3);
			_exit(0);
		}
	}
	close(go[0][0]);
	close(go[1][0]);
	close(ready[1]);
	/* every child has closed what it does not use: the state is settled */
	for (i = 0; i < NR; i++)
		if (read(ready[0], &c, 1) != 1) {
			pr_err("a child did not start\n");
			goto err;
		}
	close(ready[0]);

	test_daemon();
	test_waitsig();

	if (lseek(shared, 0, SEEK_CUR) != 10 || lseek(own, 0, SEEK_CUR) != 3) {
		fail("offsets %ld and %ld after C/R, expected 10 and 3", (long)lseek(shared, 0, SEEK_CUR),
		     (long)lseek(own, 0, SEEK_CUR));
		goto err;
	}
	for (i = 0; i < NR; i++) {
		if (write(go[i][1], "g", 1) != 1 || waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fail("child %d: %#x", i, status);
			goto err;
		}
		kids[i] = 0;
	}
	if (lseek(shared, 0, SEEK_CUR) != 14) {
		fail("the children's writes did not move the shared offset (%ld)", (long)lseek(shared, 0, SEEK_CUR));
		goto err;
	}
	memset(buf, 0, sizeof(buf));
	if (read(own, buf, sizeof(buf)) != 11 || strcmp(buf, "3456789AABB")) {
		fail("the file through the own description: '%s'", buf);
		goto err;
	}
	pass();
	return 0;
err:
	for (i = 0; i < NR; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	return 1;
}
