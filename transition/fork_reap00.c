#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Fork short-lived children and reap them continuously while being dumped: every child's "
		       "exit status (code or signal, derived from its sequence number) is checked";
const char *test_author = "Stasis developers";

#define BATCH 4

/* seq -> expected status: most exit with a code, every 5th kills itself with a signal */
static int expect_sig(unsigned long seq)
{
	return seq % 5 == 4 ? (seq % 2 ? SIGKILL : SIGUSR2) : 0;
}

static int expect_code(unsigned long seq)
{
	return (int)((seq * 7 + 3) % 251);
}

int main(int argc, char **argv)
{
	unsigned long seq = 0, reaped = 0;
	pid_t pids[BATCH];
	unsigned long seqs[BATCH];
	int i, status;

	test_init(argc, argv);
	test_daemon();

	while (test_go()) {
		for (i = 0; i < BATCH; i++, seq++) {
			pids[i] = fork();
			if (pids[i] < 0) {
				fail("fork #%lu", seq);
				goto err;
			}
			if (pids[i] == 0) {
				volatile unsigned long x = seq, s = 0;
				unsigned long k;

				prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
				for (k = 0; k < (x % 64) * 1000; k++) /* a little work */
					s += k;
				if (expect_sig(x)) {
					signal(expect_sig(x), SIG_DFL);
					raise(expect_sig(x));
				}
				_exit(expect_code(x));
			}
			seqs[i] = seq;
		}
		/* reap in a different order than forked */
		for (i = BATCH - 1; i >= 0; i--) {
			pid_t p;

			do
				p = waitpid(pids[i], &status, 0);
			while (p < 0 && errno == EINTR);
			if (p != pids[i]) {
				fail("waitpid(%d) for child #%lu = %d", pids[i], seqs[i], p);
				goto err;
			}
			if (expect_sig(seqs[i]) ? !WIFSIGNALED(status) || WTERMSIG(status) != expect_sig(seqs[i])
						: !WIFEXITED(status) || WEXITSTATUS(status) != expect_code(seqs[i])) {
				fail("child #%lu (pid %d): status %#x, expected %s %d", seqs[i], pids[i], status,
				     expect_sig(seqs[i]) ? "signal" : "exit code",
				     expect_sig(seqs[i]) ?: expect_code(seqs[i]));
				goto err;
			}
			pids[i] = 0;
			reaped++;
		}
	}
	{
		pid_t left = waitpid(-1, &status, WNOHANG);

		if (left != -1 || errno != ECHILD) {
			char path[64], buf[256] = "";
			int fd;

			snprintf(path, sizeof(path), "/proc/%d/stat", left);
			fd = open(path, O_RDONLY);
			if (fd >= 0) {
				if (read(fd, buf, sizeof(buf) - 1) < 0)
					buf[0] = 0;
				close(fd);
			}
			fail("an unexpected child is left: waitpid(-1, WNOHANG) = %d (status %#x; %s)", left,
			     left > 0 ? status : 0, buf);
			return 1;
		}
	}
	test_msg("%lu children forked and reaped\n", reaped);
	if (reaped == 0) {
		fail("no child was forked");
		return 1;
	}
	pass();
	return 0;
err:
	for (i = 0; i < BATCH; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	return 1;
}
