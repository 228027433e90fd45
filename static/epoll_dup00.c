#include <sys/stat.h>

#include "epoll_common.h"

const char *test_doc = "Targets whose fd number changed since EPOLL_CTL_ADD: one registered as fd 20, dup'ed to "
		       "30 and 20 closed; one registered as fd 21, dup'ed to 31 and 21 now /dev/null (close-on-exec): "
		       "after C/R fdinfo shows tfd 20 and 21 as before, 20 is still closed, 21 still /dev/null with "
		       "FD_CLOEXEC, data through either pipe is delivered with its cookie, and DEL by the new number "
		       "finds nothing (the kernel keys by file and registration number)";
const char *test_author = "Stasis developers";

#define C20 0x2020202020202020ULL
#define C21 0x2121212121212121ULL

int main(int argc, char **argv)
{
	char before[TFD_TEXT], buf[8];
	struct stat st;
	int p[2], q[2], ep, null;

	test_init(argc, argv);

	ep = epoll_create1(0);
	if (ep < 0 || pipe(p) || pipe(q)) {
		pr_perror("epoll_create1/pipe");
		return 1;
	}
	if (dup2(p[0], 20) != 20 || dup2(q[0], 21) != 21 || close(p[0]) || close(q[0]))
		return pr_perror("dup2");
	if (ep_add(ep, 20, EPOLLIN, C20) || ep_add(ep, 21, EPOLLIN | EPOLLRDHUP, C21))
		return 1;
	null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(20, 30) != 30 || close(20) || dup2(21, 31) != 31 || dup3(null, 21, O_CLOEXEC) != 21 ||
	    close(null))
		return pr_perror("moving the targets");
	if (epoll_tfds(ep, before, sizeof(before)) || !strstr(before, "tfd:       20") ||
	    !strstr(before, "tfd:       21")) {
		fail("unexpected registrations before C/R:\n%s", before);
		return 1;
	}
	if (write(p[1], "p", 1) != 1)
		return pr_perror("write");

	test_daemon();
	test_waitsig();

	if (same_tfds(ep, before, "after C/R"))
		return 1;
	if (fcntl(20, F_GETFD) != -1 || errno != EBADF) {
		fail("fd 20 is open after C/R");
		return 1;
	}
	if (fstat(21, &st) || !S_ISCHR(st.st_mode) || fcntl(21, F_GETFD) != FD_CLOEXEC) {
		fail("fd 21 is not /dev/null with FD_CLOEXEC after C/R");
		return 1;
	}
	if (fstat(30, &st) || !S_ISFIFO(st.st_mode) || fstat(31, &st) || !S_ISFIFO(st.st_mode)) {
		fail("fds 30 and 31 are not the pipes after C/R");
		return 1;
	}
	if (expect_wait(ep, 1, EPOLLIN, C20, "data queued before the dump"))
		return 1;
	if (read(30, buf, sizeof(buf)) != 1 || buf[0] != 'p' || expect_wait(ep, 0, 0, 0, "drained"))
		return 1;
	if (write(q[1], "q", 1) != 1 || expect_wait(ep, 1, EPOLLIN, C21, "data into the second pipe"))
		return 1;
	/* by 30: no item (file, 30); by 21: /dev/null cannot be polled at all */
	if (epoll_ctl(ep, EPOLL_CTL_DEL, 30, NULL) != -1 || errno != ENOENT ||
	    epoll_ctl(ep, EPOLL_CTL_DEL, 21, NULL) != -1 || errno != EPERM) {
		fail("EPOLL_CTL_DEL by fd 30 (expected ENOENT) or 21 (expected EPERM)");
		return 1;
	}
	if (epoll_count(ep) != 2)
		return 1;
	if (read(31, buf, sizeof(buf)) != 1 || buf[0] != 'q')
		return 1;
	pass();
	return 0;
}
