#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A pipe shared by a parent (write end) and a child (read end) with generated data in flight "
		       "over C/R; the child checks the data (CRC) after it";
const char *test_author = "Stasis developers";

#define DATA_LEN (48 * 1024)

int main(int argc, char **argv)
{
	static uint8_t buf[DATA_LEN];
	int data[2], go[2], ready[2], status;
	uint32_t crc;
	pid_t pid;
	char c;

	test_init(argc, argv);

	if (pipe(data) || pipe(go) || pipe(ready)) {
		pr_perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(data[1]);
		close(go[1]);
		close(ready[0]);
		if (write(ready[1], "r", 1) != 1)
			_exit(6);
		close(ready[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		if (read_data(data[0], buf, DATA_LEN))
			_exit(3);
		crc = ~0;
		if (datachk(buf, DATA_LEN, &crc))
			_exit(4);
		if (read(data[0], &c, 1) != 0) /* EOF: the parent closed its write end */
			_exit(5);
		_exit(0);
	}
	close(data[0]);
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) { /* the child closed what it does not use: the state is settled */
		pr_err("the child did not start\n");
		goto err;
	}
	close(ready[0]);
	crc = ~0;
	datagen(buf, DATA_LEN, &crc);
	if (write_data(data[1], buf, DATA_LEN)) {
		pr_perror("write");
		goto err;
	}

	test_daemon();
	test_waitsig();

	close(data[1]);
	if (write(go[1], "g", 1) != 1) {
		fail("write go");
		goto err;
	}
	if (waitpid(pid, &status, 0) != pid) {
		fail("waitpid");
		goto err;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the reader child failed (status %#x: 2 go, 3 short data, 4 bad data, 5 no EOF)", status);
		return 1;
	}
	pass();
	return 0;
err:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
