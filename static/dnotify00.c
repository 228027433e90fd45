#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "A directory notification (fcntl F_NOTIFY DN_CREATE|DN_MULTISHOT, F_SETSIG SIGRTMIN+1): "
		       "after C/R creating a file in the directory still delivers the signal with si_fd, every time";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "directory to watch", 1);

static int nr_files;
static char made[8][PATH_MAX];

static int expect_notify(int dfd, const char *when)
{
	struct timespec ts = { 5, 0 };
	siginfo_t si;
	sigset_t set;
	int sig, fd;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigaddset(&set, SIGIO);
	if (nr_files >= (int)ARRAY_SIZE(made))
		return pr_err("too many files\n");
	ssprintf(made[nr_files], "%s/f%d", dirname, nr_files);
	fd = open(made[nr_files], O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (fd < 0)
		return pr_perror("create %s", made[nr_files]);
	nr_files++;
	close(fd);
	sig = sigtimedwait(&set, &si, &ts);
	if (sig != SIGRTMIN + 1) {
		fail("%s: creating a file in the watched directory gave signal %d, expected SIGRTMIN+1 (%d)", when,
		     sig, SIGRTMIN + 1);
		return 1;
	}
	if (si.si_fd != dfd) {
		errno = 0;
		fail("%s: the notification has si_fd %d, expected the directory fd %d", when, si.si_fd, dfd);
		return 1;
	}
	/* only DN_CREATE is watched: the creation gave one signal (open O_CREAT, close: no DN_MODIFY) */
	ts.tv_sec = 0;
	ts.tv_nsec = 100 * 1000 * 1000;
	sig = sigtimedwait(&set, &si, &ts);
	if (sig > 0) {
		fail("%s: an extra signal %d after one creation", when, sig);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	sigset_t set;
	int dfd, ret = 1, i;

	test_init(argc, argv);

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigaddset(&set, SIGIO);
	if (sigprocmask(SIG_BLOCK, &set, NULL)) {
		pr_perror("sigprocmask");
		return 1;
	}
	if (mkdir(dirname, 0755)) {
		pr_perror("mkdir %s", dirname);
		return 1;
	}
	dfd = open(dirname, O_RDONLY | O_DIRECTORY);
	if (dfd < 0) {
		pr_perror("open %s", dirname);
		goto out;
	}
	if (fcntl(dfd, F_SETSIG, SIGRTMIN + 1) || fcntl(dfd, F_NOTIFY, DN_CREATE | DN_MULTISHOT)) {
		pr_perror("F_SETSIG/F_NOTIFY");
		goto out;
	}
	if (expect_notify(dfd, "before C/R"))
		goto out;

	test_daemon();
	test_waitsig();

	if (fcntl(dfd, F_GETSIG) != SIGRTMIN + 1) {
		fail("F_GETSIG of the directory fd is %d after C/R, expected %d", fcntl(dfd, F_GETSIG), SIGRTMIN + 1);
		goto out;
	}
	/* DN_MULTISHOT: twice */
	if (expect_notify(dfd, "after C/R") || expect_notify(dfd, "after C/R, second file"))
		goto out;
	pass();
	ret = 0;
out:
	if (dfd >= 0)
		close(dfd);
	for (i = 0; i < nr_files; i++)
		unlink(made[i]);
	rmdir(dirname);
	return ret;
}
