#include <linux/kcmp.h>
#include <sys/syscall.h>

#include "epoll_common.h"

const char *test_doc = "Sixteen pipes registered under the low fd numbers 4..19, then moved to 100.. and the low "
		       "numbers closed, the epoll dup'ed to 10 (the restore must lend those numbers to the targets, "
		       "wherever its own fds and the epoll sit): after C/R the sixteen registrations are as before, "
		       "4..19 but 10 are closed, fd 10 is the epoll, and each pipe's data wakes the epoll with its "
		       "own cookie";
const char *test_author = "Stasis developers";

#define NR 16
#define LOW 4
#define EPFD2 10
#define COOKIE(i) (0x10000000000ULL * ((i) + 1) + (i))

int main(int argc, char **argv)
{
	char before[TFD_TEXT], c;
	struct epoll_event ev[NR + 1];
	int p[2], ep, i, j, n;

	test_init(argc, argv);

	for (i = 0; i < NR; i++) {
		if (pipe(p) || dup2(p[0], 100 + i) < 0 || dup2(p[1], 200 + i) < 0)
			return pr_perror("pipe");
		close(p[0]);
		close(p[1]);
	}
	i = epoll_create1(0);
	ep = dup2(i, 300);
	if (i < 0 || ep != 300 || close(i))
		return pr_perror("epoll_create1");
	for (i = 0; i < NR; i++) {
		if (dup2(100 + i, LOW + i) != LOW + i || ep_add(ep, LOW + i, EPOLLIN, COOKIE(i)) || close(LOW + i))
			return 1;
	}
	/* the epoll also sits at a registration's number now (fd 10, besides 300) */
	if (dup2(ep, EPFD2) != EPFD2 || epoll_tfds(ep, before, sizeof(before)) || epoll_count(ep) != NR)
		return 1;
	if (write(200 + 3, "3", 1) != 1)
		return pr_perror("write");

	test_daemon();
	test_waitsig();

	if (same_tfds(ep, before, "after C/R"))
		return 1;
	for (i = LOW; i < LOW + NR; i++)
		if (i != EPFD2 && fcntl(i, F_GETFD) != -1) {
			fail("fd %d is open after C/R", i);
			return 1;
		}
	if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, ep, EPFD2)) {
		fail("fd %d is not the epoll after C/R", EPFD2);
		return 1;
	}
	if (expect_wait(ep, 1, EPOLLIN, COOKIE(3), "the pipe with data"))
		return 1;
	if (read(100 + 3, &c, 1) != 1 || c != '3')
		return 1;
	for (i = 0; i < NR; i++) {
		c = '0' + i;
		if (write(200 + i, &c, 1) != 1)
			return pr_perror("write");
	}
	n = epoll_wait(ep, ev, NR + 1, 0);
	if (n != NR) {
		fail("%d pipes ready, expected %d", n, NR);
		return 1;
	}
	for (i = 0; i < NR; i++) {
		for (j = 0; j < n; j++)
			if (ev[j].data.u64 == COOKIE(i) && ev[j].events == EPOLLIN)
				break;
		if (j == n) {
			fail("no event for pipe %d", i);
			return 1;
		}
	}
	pass();
	return 0;
}
