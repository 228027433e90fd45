#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A writer process keeps writing numbered records into a FIFO and a reader process keeps "
		       "reading them while being dumped: the reader checks every record arrives once, in order, "
		       "untorn, and that the stream goes on after C/R";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "FIFO path", 1);

struct rec {
	uint64_t seq;
	uint64_t check;
	uint8_t pad[240];
};

static uint64_t seal(uint64_t seq)
{
	return seq * 0x9e3779b97f4a7c15ULL ^ 0xfeedULL;
}

int main(int argc, char **argv)
{
	int res[2], status, rd;
	pid_t writer;
	uint64_t next = 0, before = 0;
	struct rec r;
	int go_on = 1;
	ssize_t n;

	test_init(argc, argv);

	if (mkfifo(filename, 0600) || pipe(res))
		return pr_perror("mkfifo %s", filename);
	writer = fork();
	if (writer < 0)
		return pr_perror("fork");
	if (writer == 0) {
		int wr;
		uint64_t seq;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		signal(SIGPIPE, SIG_IGN);
		wr = open(filename, O_WRONLY);
		if (wr < 0)
			_exit(2);
		for (seq = 0;; seq++) {
			memset(&r, (int)(seq & 0xff), sizeof(r));
			r.seq = seq;
			r.check = seal(seq);
			if (write(wr, &r, sizeof(r)) != sizeof(r))
				_exit(errno == EPIPE ? 0 : 3);
		}
	}
	rd = open(filename, O_RDONLY);
	if (rd < 0)
		return pr_perror("open");
	unlink(filename);

	test_daemon();
	while (go_on) {
		uint8_t *p = (uint8_t *)&r;
		size_t got = 0;
		unsigned j;

		if (test_go() == 0 && before == 0)
			before = next;
		if (test_go() == 0 && next > before + 1000)
			go_on = 0;
		while (got < sizeof(r)) {
			n = read(rd, p + got, sizeof(r) - got);
			if (n <= 0) {
				fail("read from the FIFO: %zd after record %llu", n, (unsigned long long)next);
				kill(writer, SIGKILL);
				return 1;
			}
			got += n;
		}
		if (r.seq != next || r.check != seal(next)) {
			fail("record %llu (check %llx) arrived, expected %llu", (unsigned long long)r.seq,
			     (unsigned long long)r.check, (unsigned long long)next);
			kill(writer, SIGKILL);
			return 1;
		}
		for (j = 0; j < sizeof(r.pad); j++)
			if (r.pad[j] != (uint8_t)(next & 0xff)) {
				fail("record %llu is torn at byte %u", (unsigned long long)next, j);
				kill(writer, SIGKILL);
				return 1;
			}
		next++;
	}
	test_waitsig();
	close(rd);
	if (waitpid(writer, &status, 0) != writer)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the writer failed (status %#x)", status);
		return 1;
	}
	test_msg("%llu records, %llu after the signal\n", (unsigned long long)next,
		 (unsigned long long)(next - before));
	pass();
	return 0;
}
