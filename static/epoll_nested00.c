#include "epoll_common.h"

const char *test_doc = "An epoll inside an epoll: the outer instance watches two inner ones, one with a ready pipe "
		       "and one with an empty pipe: after C/R the three keep their registrations, the outer one is "
		       "ready at once for the first inner one, becomes ready for the second when its pipe gets data, "
		       "and adding the outer to an inner one still fails with ELOOP";
const char *test_author = "Stasis developers";

#define CI 0x1a1a1a1a00000001ULL
#define CJ 0x1a1a1a1a00000002ULL
#define CO1 0x0000000000000011ULL
#define CO2 0x0000000000000022ULL

int main(int argc, char **argv)
{
	char bo[TFD_TEXT], bi[TFD_TEXT], bj[TFD_TEXT], buf[8];
	struct epoll_event ev;
	int p[2], q[2], eo, ei, ej;

	test_init(argc, argv);

	ei = epoll_create1(0);
	ej = epoll_create1(0);
	eo = epoll_create1(0);
	if (ei < 0 || ej < 0 || eo < 0 || pipe(p) || pipe(q)) {
		pr_perror("epoll_create1/pipe");
		return 1;
	}
	if (ep_add(ei, p[0], EPOLLIN, CI) || ep_add(ej, q[0], EPOLLIN, CJ) || ep_add(eo, ei, EPOLLIN, CO1) ||
	    ep_add(eo, ej, EPOLLIN | EPOLLET, CO2))
		return 1;
	if (write(p[1], "p", 1) != 1)
		return pr_perror("write");
	if (epoll_tfds(eo, bo, sizeof(bo)) || epoll_tfds(ei, bi, sizeof(bi)) || epoll_tfds(ej, bj, sizeof(bj)))
		return 1;

	test_daemon();
	test_waitsig();

	if (same_tfds(eo, bo, "outer") || same_tfds(ei, bi, "first inner") || same_tfds(ej, bj, "second inner"))
		return 1;
	if (expect_wait(eo, 1, EPOLLIN, CO1, "outer after C/R") || expect_wait(ei, 1, EPOLLIN, CI, "inner"))
		return 1;
	if (read(p[0], buf, sizeof(buf)) != 1 || expect_wait(eo, 0, 0, 0, "outer, first pipe drained"))
		return 1;
	if (write(q[1], "q", 1) != 1 || expect_wait(eo, 1, EPOLLIN, CO2, "outer, second pipe written") ||
	    expect_wait(ej, 1, EPOLLIN, CJ, "second inner"))
		return 1;
	ev.events = EPOLLIN;
	ev.data.u64 = 0;
	if (epoll_ctl(ei, EPOLL_CTL_ADD, eo, &ev) != -1 || errno != ELOOP) {
		fail("adding the outer epoll to an inner one did not fail with ELOOP");
		return 1;
	}
	pass();
	return 0;
}
