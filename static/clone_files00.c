#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "Two processes sharing one fd table (clone(CLONE_FILES)): after C/R an fd opened or closed "
		       "by one is seen by the other, in both directions";
const char *test_author = "Stasis developers";

enum { OP_STAT = 1, OP_PIPE, OP_CLOSE, OP_WRITE, OP_EXIT };

struct ctl {
	futex_t req, ack;
	int op, fd;
	long res, res2;
	dev_t dev;
	ino_t ino;
};

static struct ctl *ctl;
static char stack[256 * 1024] __stack_aligned__;

static int child_fn(void *arg)
{
	uint32_t seen = 0;
	struct stat st;
	int p[2];

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	while (1) {
		futex_wait_while_eq(&ctl->req, seen);
		seen = futex_get(&ctl->req);
		switch (ctl->op) {
		case OP_STAT: /* res = 0 if ctl->fd is open and is (dev, ino) */
			ctl->res = fstat(ctl->fd, &st) ? -errno : (st.st_dev == ctl->dev && st.st_ino == ctl->ino) ? 0 : 1;
			break;
		case OP_PIPE:
			ctl->res = pipe(p) ? -errno : p[0];
			ctl->res2 = p[1];
			break;
		case OP_CLOSE:
			ctl->res = close(ctl->fd) ? -errno : 0;
			break;
		case OP_WRITE:
			ctl->res = write(ctl->fd, "child", 5);
			break;
		case OP_EXIT:
			futex_set_and_wake(&ctl->ack, seen);
			_exit(0);
		}
		futex_set_and_wake(&ctl->ack, seen);
	}
	return 0;
}

static long call(int op, int fd, struct stat *st)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	uint32_t n = futex_get(&ctl->req) + 1;
	int i;

	ctl->op = op;
	ctl->fd = fd;
	if (st) {
		ctl->dev = st->st_dev;
		ctl->ino = st->st_ino;
	}
	ctl->res = -1000;
	futex_set_and_wake(&ctl->req, n);
	for (i = 0; i < 100 && futex_get(&ctl->ack) != n; i++)
		sys_futex(&ctl->ack.raw, FUTEX_WAIT, futex_get(&ctl->ack), &ts, NULL, 0);
	if (futex_get(&ctl->ack) != n)
		return -2000; /* no answer */
	return ctl->res;
}

int main(int argc, char **argv)
{
	int pre_fd, p[2], kcmp_ok, status;
	struct stat st;
	char buf[16];
	pid_t pid;
	long r = 0;

	test_init(argc, argv);

	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	pid = clone(child_fn, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL);
	if (pid < 0) {
		pr_perror("clone");
		return 1;
	}
	/* An fd opened after the clone, before C/R */
	pre_fd = open("/dev/null", O_RDONLY);
	if (pre_fd < 0 || fstat(pre_fd, &st) || call(OP_STAT, pre_fd, &st) != 0) {
		pr_err("the fd table is not shared before C/R\n");
		goto err;
	}
	kcmp_ok = syscall(SYS_kcmp, getpid(), pid, KCMP_FILES, 0, 0) == 0;
	test_msg("kcmp(KCMP_FILES) %s\n", kcmp_ok ? "says shared" : "not usable");

	test_daemon();
	test_waitsig();

	if (kcmp_ok && syscall(SYS_kcmp, getpid(), pid, KCMP_FILES, 0, 0) != 0) {
		fail("kcmp(KCMP_FILES): the fd tables are not the same after C/R");
		goto err;
	}
	if (fstat(pre_fd, &st) || (r = call(OP_STAT, pre_fd, &st)) != 0) {
		fail("fd %d opened before C/R: child says %ld", pre_fd, r);
		goto err;
	}
	/* parent opens, child sees and uses it */
	if (pipe(p) || fstat(p[1], &st)) {
		fail("pipe");
		goto err;
	}
	if ((r = call(OP_STAT, p[1], &st)) != 0) {
		fail("fd %d opened by the parent after C/R: child's fstat says %ld", p[1], r);
		goto err;
	}
	if ((r = call(OP_WRITE, p[1], NULL)) != 5 || read(p[0], buf, sizeof(buf)) != 5 || memcmp(buf, "child", 5)) {
		fail("the child could not write through the parent's new fd (%ld)", r);
		goto err;
	}
	/* child closes, parent sees it closed */
	if ((r = call(OP_CLOSE, p[1], NULL)) != 0) {
		fail("the child could not close fd %d (%ld)", p[1], r);
		goto err;
	}
	if (fcntl(p[1], F_GETFD) != -1 || errno != EBADF) {
		fail("fd %d closed by the child is still open in the parent", p[1]);
		goto err;
	}
	/* child opens, parent sees and uses it */
	r = call(OP_PIPE, 0, NULL);
	if (r < 0) {
		fail("the child could not create a pipe (%ld)", r);
		goto err;
	}
	if (write(ctl->res2, "parent", 6) != 6 || read(r, buf, sizeof(buf)) != 6 || memcmp(buf, "parent", 6)) {
		fail("the pipe %ld/%ld created by the child is not usable by the parent", r, ctl->res2);
		goto err;
	}
	close(r);
	close(ctl->res2);
	close(p[0]);

	if (call(OP_EXIT, 0, NULL) != -1000 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fail("child exit status %#x", status);
		return 1;
	}
	pass();
	return 0;
err:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
