#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "One open file description shared by several fds in a parent and a child (fork + dup): "
		       "after C/R one offset and one set of status flags (O_APPEND, O_NONBLOCK) for all of them, "
		       "while a second open() of the same file stays separate";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "file name", 1);

enum { OP_TELL = 1, OP_GETFL, OP_SETFL, OP_WRITE, OP_EXIT };

struct ctl {
	futex_t req, ack;
	int op, fd;
	long arg, res;
};

static struct ctl *ctl;

static void child(void)
{
	uint32_t seen = 0;
	char buf[64];

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	memset(buf, 'c', sizeof(buf));
	while (1) {
		futex_wait_while_eq(&ctl->req, seen);
		seen = futex_get(&ctl->req);
		switch (ctl->op) {
		case OP_TELL:
			ctl->res = lseek(ctl->fd, 0, SEEK_CUR);
			break;
		case OP_GETFL:
			ctl->res = fcntl(ctl->fd, F_GETFL);
			break;
		case OP_SETFL:
			ctl->res = fcntl(ctl->fd, F_SETFL, ctl->arg);
			break;
		case OP_WRITE:
			ctl->res = write(ctl->fd, buf, ctl->arg);
			break;
		case OP_EXIT:
			futex_set_and_wake(&ctl->ack, seen);
			_exit(0);
		}
		futex_set_and_wake(&ctl->ack, seen);
	}
}

static long call(int op, int fd, long arg)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	uint32_t n = futex_get(&ctl->req) + 1;
	int i;

	ctl->op = op;
	ctl->fd = fd;
	ctl->arg = arg;
	ctl->res = -1000;
	futex_set_and_wake(&ctl->req, n);
	for (i = 0; i < 100 && futex_get(&ctl->ack) != n; i++)
		sys_futex(&ctl->ack.raw, FUTEX_WAIT, futex_get(&ctl->ack), &ts, NULL, 0);
	if (futex_get(&ctl->ack) != n)
		return -2000;
	return ctl->res;
}

#define SFL (O_APPEND | O_NONBLOCK)

/* Both processes see @off through fd1 and fd2, and 7 through fd3 */
static int check_offsets(int fd1, int fd2, int fd3, off_t off, const char *when)
{
	long o[6] = { lseek(fd1, 0, SEEK_CUR), lseek(fd2, 0, SEEK_CUR), lseek(fd3, 0, SEEK_CUR),
		      call(OP_TELL, fd1, 0), call(OP_TELL, fd2, 0), call(OP_TELL, fd3, 0) };

	if (o[0] != off || o[1] != off || o[3] != off || o[4] != off || o[2] != 7 || o[5] != 7) {
		fail("%s: offsets parent %ld/%ld/%ld child %ld/%ld/%ld, expected %ld/%ld/7", when, o[0], o[1], o[2],
		     o[3], o[4], o[5], (long)off, (long)off);
		return 1;
	}
	return 0;
}

static int check_flags(int fd1, int fd2, int fd3, int flags, const char *when)
{
	long f[6] = { fcntl(fd1, F_GETFL), fcntl(fd2, F_GETFL), fcntl(fd3, F_GETFL),
		      call(OP_GETFL, fd1, 0), call(OP_GETFL, fd2, 0), call(OP_GETFL, fd3, 0) };
	int i;

	for (i = 0; i < 6; i++) {
		int want = (i % 3 == 2) ? 0 : flags;

		if (f[i] < 0 || (f[i] & SFL) != want) {
			fail("%s: %s fd%d: flags %#lx, expected O_APPEND|O_NONBLOCK part %#x", when,
			     i < 3 ? "parent" : "child", i % 3 + 1, f[i], want);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd1, fd2, fd3, status, i;
	char buf[256];
	struct stat st;
	pid_t pid;

	test_init(argc, argv);

	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd1 = open(filename, O_RDWR | O_CREAT | O_EXCL, 0600);
	fd3 = open(filename, O_RDWR);
	fd2 = dup(fd1);
	if (ctl == MAP_FAILED || fd1 < 0 || fd2 < 0 || fd3 < 0) {
		pr_perror("setup");
		return 1;
	}
	memset(buf, 'p', 100);
	if (write(fd1, buf, 100) != 100 || lseek(fd3, 7, SEEK_SET) != 7) {
		pr_perror("write/lseek");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0)
		child();
	if (call(OP_WRITE, fd2, 20) != 20 || fcntl(fd1, F_SETFL, O_APPEND)) {
		pr_perror("child write / F_SETFL");
		goto err;
	}
	if (check_offsets(fd1, fd2, fd3, 120, "before C/R") || check_flags(fd1, fd2, fd3, O_APPEND, "before C/R"))
		goto err;

	test_daemon();
	test_waitsig();

	if (check_offsets(fd1, fd2, fd3, 120, "after C/R") || check_flags(fd1, fd2, fd3, O_APPEND, "after C/R"))
		goto err;
	/* The child sets O_NONBLOCK too: everybody sees it, except fd3 */
	if (call(OP_SETFL, fd2, O_APPEND | O_NONBLOCK) != 0) {
		fail("child F_SETFL");
		goto err;
	}
	if (check_flags(fd1, fd2, fd3, O_APPEND | O_NONBLOCK, "after the child's F_SETFL"))
		goto err;
	/* One offset: the child's write moves the parent's offset */
	if (call(OP_WRITE, fd1, 30) != 30 || check_offsets(fd1, fd2, fd3, 150, "after the child's write"))
		goto err;
	if (lseek(fd2, 5, SEEK_SET) != 5 || check_offsets(fd1, fd2, fd3, 5, "after the parent's lseek"))
		goto err;
	/* O_APPEND really applies: the child's write goes to the end, not to offset 5 */
	if (call(OP_WRITE, fd2, 10) != 10 || check_offsets(fd1, fd2, fd3, 160, "after an O_APPEND write"))
		goto err;
	if (fcntl(fd1, F_SETFL, 0) || check_flags(fd1, fd2, fd3, 0, "after the parent cleared the flags"))
		goto err;

	if (fstat(fd3, &st) || st.st_size != 160 || pread(fd3, buf, 160, 0) != 160) {
		fail("file size %ld, expected 160", (long)st.st_size);
		goto err;
	}
	for (i = 0; i < 160; i++) {
		if (buf[i] != (i < 100 ? 'p' : 'c')) {
			fail("file byte %d is '%c'", i, buf[i]);
			goto err;
		}
	}

	if (call(OP_EXIT, 0, 0) != -1000 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
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
