#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Several POSIX record locks per file, merged and split by the kernel: adjacent write "
		       "locks merged into one, overlapping read locks merged, a write lock split by an unlock, a read "
		       "lock split by a write lock inside it, a whole-file write lock on a second file. Another process "
		       "sees every segment with its exact range, type and the test's pid; after C/R a new lock next "
		       "to a restored one still merges with it (the restored locks are the test's own)";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "base name of the test files", 1);

static char path_a[PATH_MAX], path_b[PATH_MAX];

struct seg {
	short type;
	off_t start, len; /* len 0: to EOF */
};

/* what the kernel holds for the test on file a after setup (sorted, gaps between them are free) */
static struct seg before[] = {
	{ F_WRLCK, 0, 200 },	{ F_RDLCK, 300, 200 },	{ F_RDLCK, 700, 50 },	{ F_WRLCK, 750, 10 },
	{ F_RDLCK, 760, 40 },	{ F_WRLCK, 1000, 500 }, { F_WRLCK, 1600, 0 },
};
/* after C/R the test adds a write lock on [200, 210): it merges with [0, 200) */
static struct seg after[] = {
	{ F_WRLCK, 0, 210 },	{ F_RDLCK, 300, 200 },	{ F_RDLCK, 700, 50 },	{ F_WRLCK, 750, 10 },
	{ F_RDLCK, 760, 40 },	{ F_WRLCK, 1000, 500 }, { F_WRLCK, 1600, 0 },
};
static off_t gaps[] = { 220, 299, 500, 699, 800, 999, 1500, 1599 };

static int setlk(int fd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, F_SETLK, &fl);
}

/* F_GETLK of a write lock on one byte: the lock that conflicts, if any */
static int probe(int fd, off_t at, struct flock *fl)
{
	*fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1 };
	return fcntl(fd, F_GETLK, fl);
}

/* Exit code: 0 or the number of the failed check */
static int child_check(pid_t owner, struct seg *segs, int nsegs, int held)
{
	struct flock fl;
	int fd, i;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	fd = open(path_a, O_RDWR);
	if (fd < 0)
		return 10;
	for (i = 0; i < nsegs; i++) {
		off_t last = segs[i].len ? segs[i].start + segs[i].len - 1 : 1 << 20;
		int e;

		for (e = 0; e < 2; e++) {
			/* both ends of the segment report exactly this segment */
			if (probe(fd, e ? last : segs[i].start, &fl))
				return 11;
			if (!held && fl.l_type != F_UNLCK)
				return 12;
			if (held && (fl.l_type != segs[i].type || fl.l_start != segs[i].start ||
				     fl.l_len != segs[i].len || fl.l_pid != owner))
				return 20 + i;
		}
		if (!held)
			continue;
		/* a read lock is shared: another reader gets it */
		if (segs[i].type == F_RDLCK && setlk(fd, F_RDLCK, segs[i].start, 1))
			return 40 + i;
		if (setlk(fd, F_WRLCK, segs[i].start, 1) == 0 || errno != EAGAIN)
			return 50 + i;
	}
	for (i = 0; i < (int)(sizeof(gaps) / sizeof(gaps[0])); i++)
		if (probe(fd, gaps[i], &fl) || fl.l_type != F_UNLCK)
			return 60 + i;
	close(fd);

	fd = open(path_b, O_RDWR);
	if (fd < 0)
		return 70;
	if (probe(fd, 12345, &fl))
		return 71;
	if (held && (fl.l_type != F_WRLCK || fl.l_start != 0 || fl.l_len != 0 || fl.l_pid != owner))
		return 72;
	if (!held && fl.l_type != F_UNLCK)
		return 73;
	return 0;
}

static int run_check(struct seg *segs, int nsegs, int held, const char *when)
{
	pid_t owner = getpid(), pid;
	int status;

	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0)
		_exit(child_check(owner, segs, nsegs, held));
	if (waitpid(pid, &status, 0) != pid)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("%s: the checking child exited with status %#x (check %d in child_check: the record "
		     "locks are not as set)", when, status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char buf[4096] = {};
	int fd_a = -1, fd_b = -1, ret = 1;

	test_init(argc, argv);

	ssprintf(path_a, "%s.a", filename);
	ssprintf(path_b, "%s.b", filename);
	fd_a = open(path_a, O_CREAT | O_EXCL | O_RDWR, 0644);
	fd_b = open(path_b, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd_a < 0 || fd_b < 0 || write(fd_a, buf, sizeof(buf)) != sizeof(buf)) {
		pr_perror("create the test files");
		goto out;
	}
	if (setlk(fd_a, F_WRLCK, 0, 100) || setlk(fd_a, F_WRLCK, 100, 100) ||	/* merged: [0, 200) */
	    setlk(fd_a, F_RDLCK, 300, 100) || setlk(fd_a, F_RDLCK, 350, 150) ||	/* merged: [300, 500) */
	    setlk(fd_a, F_RDLCK, 700, 100) || setlk(fd_a, F_WRLCK, 750, 10) ||	/* split in three */
	    setlk(fd_a, F_WRLCK, 1000, 0) || setlk(fd_a, F_UNLCK, 1500, 100) ||	/* split by the unlock */
	    setlk(fd_b, F_WRLCK, 0, 0)) {
		pr_perror("F_SETLK");
		goto out;
	}
	if (run_check(before, ARRAY_SIZE(before), 1, "before C/R"))
		goto out;

	test_daemon();
	test_waitsig();

	if (run_check(before, ARRAY_SIZE(before), 1, "after C/R"))
		goto out;
	if (setlk(fd_a, F_WRLCK, 200, 10)) {
		fail("F_SETLK [200, 210) next to the restored lock");
		goto out;
	}
	if (run_check(after, ARRAY_SIZE(after), 1, "after C/R and a lock next to a restored one"))
		goto out;
	if (setlk(fd_a, F_UNLCK, 0, 0) || setlk(fd_b, F_UNLCK, 0, 0)) {
		fail("F_SETLK F_UNLCK");
		goto out;
	}
	if (run_check(after, ARRAY_SIZE(after), 0, "after our F_UNLCK"))
		goto out;
	pass();
	ret = 0;
out:
	if (fd_a >= 0)
		close(fd_a);
	if (fd_b >= 0)
		close(fd_b);
	unlink(path_a);
	unlink(path_b);
	return ret;
}
