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

const char *test_doc = "Two processes sharing fs info (clone(CLONE_FS)): after C/R a chdir() or umask() by one "
		       "is seen by the other, in both directions";
const char *test_author = "Stasis developers";

enum { OP_CHDIR = 1, OP_UMASK, OP_GETCWD, OP_GETUMASK, OP_EXIT };

struct ctl {
	futex_t req, ack;
	int op;
	long arg, res;
	char path[4096];
};

static struct ctl *ctl;
static char stack[256 * 1024] __stack_aligned__;

static int child_fn(void *arg)
{
	uint32_t seen = 0;
	mode_t m;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	while (1) {
		futex_wait_while_eq(&ctl->req, seen);
		seen = futex_get(&ctl->req);
		switch (ctl->op) {
		case OP_CHDIR:
			ctl->res = chdir(ctl->path) ? -errno : 0;
			break;
		case OP_UMASK:
			ctl->res = umask(ctl->arg);
			break;
		case OP_GETCWD:
			ctl->res = getcwd(ctl->path, sizeof(ctl->path)) ? 0 : -errno;
			break;
		case OP_GETUMASK:
			m = umask(0);
			umask(m);
			ctl->res = m;
			break;
		case OP_EXIT:
			futex_set_and_wake(&ctl->ack, seen);
			_exit(0);
		}
		futex_set_and_wake(&ctl->ack, seen);
	}
	return 0;
}

static long call(int op, long arg, const char *path)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	uint32_t n = futex_get(&ctl->req) + 1;
	int i;

	ctl->op = op;
	ctl->arg = arg;
	if (path)
		snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	ctl->res = -1000;
	futex_set_and_wake(&ctl->req, n);
	for (i = 0; i < 100 && futex_get(&ctl->ack) != n; i++)
		sys_futex(&ctl->ack.raw, FUTEX_WAIT, futex_get(&ctl->ack), &ts, NULL, 0);
	if (futex_get(&ctl->ack) != n)
		return -2000; /* no answer */
	return ctl->res;
}

static mode_t get_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

int main(int argc, char **argv)
{
	char cwd0[4096], cwd[4096];
	int kcmp_ok, status;
	pid_t pid;
	long r = 0;

	test_init(argc, argv);

	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED || !getcwd(cwd0, sizeof(cwd0))) {
		pr_perror("mmap/getcwd");
		return 1;
	}
	pid = clone(child_fn, stack + sizeof(stack), CLONE_FS | SIGCHLD, NULL);
	if (pid < 0) {
		pr_perror("clone");
		return 1;
	}
	/* Before C/R: the child moves to /, the parent sets the umask */
	umask(0027);
	if (call(OP_CHDIR, 0, "/") || !getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/") || call(OP_GETUMASK, 0, NULL) != 0027) {
		pr_err("fs info is not shared before C/R\n");
		goto err;
	}
	kcmp_ok = syscall(SYS_kcmp, getpid(), pid, KCMP_FS, 0, 0) == 0;
	test_msg("kcmp(KCMP_FS) %s\n", kcmp_ok ? "says shared" : "not usable");

	test_daemon();
	test_waitsig();

	if (kcmp_ok && syscall(SYS_kcmp, getpid(), pid, KCMP_FS, 0, 0) != 0) {
		fail("kcmp(KCMP_FS): fs info is not the same after C/R");
		goto err;
	}
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/") || get_umask() != 0027) {
		fail("parent: cwd %s umask %#o, expected / 027", cwd, get_umask());
		goto err;
	}
	if ((r = call(OP_GETCWD, 0, NULL)) || strcmp(ctl->path, "/") || (r = call(OP_GETUMASK, 0, NULL)) != 0027) {
		fail("child: cwd %s umask %#lo, expected / 027", ctl->path, r);
		goto err;
	}
	/* child changes, parent sees */
	if (call(OP_CHDIR, 0, cwd0) || call(OP_UMASK, 0062, NULL) != 0027) {
		fail("the child's chdir/umask failed");
		goto err;
	}
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, cwd0) || get_umask() != 0062) {
		fail("after the child's chdir(%s)/umask(062) the parent has cwd %s umask %#o", cwd0, cwd, get_umask());
		goto err;
	}
	/* parent changes, child sees */
	if (chdir("/proc")) {
		fail("chdir");
		goto err;
	}
	umask(0205);
	if ((r = call(OP_GETCWD, 0, NULL)) || strcmp(ctl->path, "/proc") || (r = call(OP_GETUMASK, 0, NULL)) != 0205) {
		fail("after the parent's chdir(/proc)/umask(0205) the child has cwd %s umask %#lo", ctl->path, r);
		goto err;
	}
	if (chdir(cwd0)) {
		fail("chdir back");
		goto err;
	}

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
