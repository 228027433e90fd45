#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "zdtmtst.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

const char *test_doc = "Sealed memfds: write/shrink/grow sealed and then sealed against more seals, one made "
		       "without MFD_ALLOW_SEALING, one MFD_NOEXEC_SEAL, one MFD_EXEC, one F_SEAL_FUTURE_WRITE: "
		       "the seals, modes and content survive C/R and the seals are enforced";
const char *test_author = "Stasis developers";

#define NR 5

static int mk(const char *name, unsigned flags, int seals, int *want_seals, mode_t *mode)
{
	char data[100];
	struct stat st;
	int fd;

	fd = memfd_create(name, flags);
	if (fd < 0) {
		pr_perror("memfd_create %s", name);
		return -1;
	}
	memset(data, name[0], sizeof(data));
	if (write(fd, data, sizeof(data)) != sizeof(data)) {
		pr_perror("write");
		return -1;
	}
	if (seals && fcntl(fd, F_ADD_SEALS, seals)) {
		pr_perror("F_ADD_SEALS %s", name);
		return -1;
	}
	*want_seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &st))
		return -1;
	*mode = st.st_mode;
	return fd;
}

int main(int argc, char **argv)
{
	static const char *names[NR] = { "sealed", "nosealing", "noexec", "exec", "future" };
	unsigned flags[NR] = { MFD_ALLOW_SEALING | MFD_EXEC, MFD_EXEC, MFD_NOEXEC_SEAL, MFD_EXEC | MFD_ALLOW_SEALING,
			       MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL };
	int seals[NR] = { F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL, 0, 0, 0, F_SEAL_FUTURE_WRITE };
	int fd[NR], want[NR], i;
	mode_t mode[NR];
	struct stat st;
	char buf[100];

	test_init(argc, argv);

	for (i = 0; i < NR; i++) {
		fd[i] = mk(names[i], flags[i], seals[i], &want[i], &mode[i]);
		if (fd[i] < 0)
			return 1;
	}
	if (fchmod(fd[3], 0750))
		return pr_perror("fchmod");
	mode[3] = S_IFREG | 0750;

	test_daemon();
	test_waitsig();

	for (i = 0; i < NR; i++) {
		int got = fcntl(fd[i], F_GET_SEALS);

		if (got != want[i]) {
			fail("%s: seals %#x after C/R, were %#x", names[i], got, want[i]);
			return 1;
		}
		if (fstat(fd[i], &st) || st.st_mode != mode[i] || st.st_size != 100) {
			fail("%s: mode %o size %ld after C/R (were %o, 100)", names[i], st.st_mode, (long)st.st_size,
			     mode[i]);
			return 1;
		}
		if (pread(fd[i], buf, 100, 0) != 100 || buf[0] != names[i][0] || buf[99] != names[i][0]) {
			fail("%s: content after C/R", names[i]);
			return 1;
		}
	}
	if (pwrite(fd[0], "x", 1, 0) != -1 || errno != EPERM || ftruncate(fd[0], 10) != -1 || errno != EPERM ||
	    fcntl(fd[0], F_ADD_SEALS, F_SEAL_EXEC) != -1 || errno != EPERM) {
		fail("the seals of %s are not enforced after C/R", names[0]);
		return 1;
	}
	if (fcntl(fd[1], F_ADD_SEALS, F_SEAL_WRITE) != -1 || errno != EPERM) {
		fail("%s accepts seals after C/R", names[1]);
		return 1;
	}
	if (fchmod(fd[2], 0777) != -1 || errno != EPERM) {
		fail("%s can be made executable after C/R", names[2]);
		return 1;
	}
	if (pwrite(fd[4], "x", 1, 0) != -1 || errno != EPERM) {
		fail("%s can be written after C/R", names[4]);
		return 1;
	}
	if (pwrite(fd[3], "y", 1, 0) != 1 || fcntl(fd[3], F_ADD_SEALS, F_SEAL_GROW)) {
		fail("%s cannot be written or sealed after C/R", names[3]);
		return 1;
	}
	pass();
	return 0;
}
