#include "zdtmtst.h"
#include "ofd_lock_util.h"

const char *test_doc = "Open file description locks: a read and a write lock on two ranges of one description: "
		       "after C/R /proc/locks lists them as OFD locks and a new description sees both conflicts "
		       "(and none outside them)";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

static int expect(off_t start, off_t len, short type)
{
	struct flock fl;

	if (ofd_probe(filename, start, len, &fl)) {
		fail("F_OFD_GETLK");
		return 1;
	}
	if (fl.l_type != type || (type != F_UNLCK && (fl.l_pid != -1 || fl.l_start != start || fl.l_len != len))) {
		fail("[%ld, +%ld): type %d pid %d [%ld, +%ld), expected type %d", (long)start, (long)len, fl.l_type,
		     fl.l_pid, (long)fl.l_start, (long)fl.l_len, type);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ofd_lock(fd, F_RDLCK, 0, 10) || ofd_lock(fd, F_WRLCK, 100, 20)) {
		pr_perror("open/lock");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (!ofd_in_proc_locks(fd, "READ", 0, 9) || !ofd_in_proc_locks(fd, "WRITE", 100, 119)) {
		fail("the OFD locks are not in /proc/locks after C/R");
		return 1;
	}
	if (expect(0, 10, F_RDLCK) || expect(100, 20, F_WRLCK) || expect(50, 10, F_UNLCK))
		return 1;
	pass();
	return 0;
}
