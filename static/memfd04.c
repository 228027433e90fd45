#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "zdtmtst.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

const char *test_doc = "An executable memfd (MFD_EXEC, mode 0755) holding machine code, mapped read+exec "
		       "(private) with its fd kept: after C/R the code in the mapping runs and returns its value, "
		       "the mapping is still executable, and the memfd keeps its mode";
const char *test_author = "Stasis developers";

/* x86_64: mov eax, 0x2a; ret */
static const uint8_t code[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };

int main(int argc, char **argv)
{
	int (*fn)(void);
	struct stat st;
	void *map;
	int fd;

	test_init(argc, argv);

	fd = memfd_create("jit", MFD_CLOEXEC | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("jit", MFD_CLOEXEC); /* before 6.3: executable anyway */
	if (fd < 0 || write(fd, code, sizeof(code)) != sizeof(code) || ftruncate(fd, 4096) || fchmod(fd, 0755))
		return pr_perror("memfd");
	map = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return pr_perror("mmap");
	fn = (int (*)(void))map;
	if (fn() != 42)
		return pr_perror("the code does not run before C/R");

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st) || (st.st_mode & 07777) != 0755 || st.st_size != 4096) {
		fail("mode %o size %ld after C/R", st.st_mode, (long)st.st_size);
		return 1;
	}
	if (fn() != 42) {
		fail("the code in the memfd mapping returns something else after C/R");
		return 1;
	}
	pass();
	return 0;
}
