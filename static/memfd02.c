#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A memfd shared between two processes: one description inherited (its offset shared), "
		       "a second description the child opens itself, and a shared mapping in both: after C/R "
		       "what the parent writes through its mapping is seen by the child's mapping and read(), "
		       "the offset moves for both and the mapping and the fds are one object";
const char *test_author = "Stasis developers";

#define SIZE (3 * 4096 + 100)

int main(int argc, char **argv)
{
	int fd, ctl[2], back[2], status, i;
	uint8_t *map;
	pid_t kid;
	char c;

	test_init(argc, argv);

	fd = memfd_create("shared", 0);
	if (fd < 0 || ftruncate(fd, SIZE) || pipe(ctl) || pipe(back))
		return pr_perror("memfd_create");
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return pr_perror("mmap");
	for (i = 0; i < SIZE; i++)
		map[i] = (uint8_t)(i * 5);
	if (lseek(fd, 100, SEEK_SET) != 100)
		return pr_perror("lseek");
	kid = fork();
	if (kid < 0)
		return pr_perror("fork");
	if (kid == 0) {
		char path[64];
		uint8_t b[8];
		int own;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		ssprintf(path, "/proc/self/fd/%d", fd);
		own = open(path, O_RDONLY);
		if (own < 0 || lseek(own, 4096, SEEK_SET) != 4096 || write(back[1], "r", 1) != 1)
			_exit(2);
		if (read(ctl[0], &c, 1) != 1)
			_exit(3);
		/* the parent wrote "XYZ" at 4096 and 100 through its mapping after C/R */
		if (map[4096] != 'X' || map[4097] != 'Y' || map[100] != 'X')
			_exit(4);
		if (read(own, b, 3) != 3 || memcmp(b, "XYZ", 3) || lseek(own, 0, SEEK_CUR) != 4099)
			_exit(5);
		if (read(fd, b, 3) != 3 || memcmp(b, "XYZ", 3)) /* the shared description, at 100 */
			_exit(6);
		if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd, own) <= 0)
			_exit(7);
		_exit(0);
	}
	if (read(back[0], &c, 1) != 1)
		return pr_perror("read back");

	test_daemon();
	test_waitsig();

	for (i = 0; i < SIZE; i++)
		if (map[i] != (uint8_t)(i * 5)) {
			fail("the mapping differs at %d after C/R", i);
			kill(kid, SIGKILL);
			return 1;
		}
	memcpy(map + 4096, "XYZ", 3);
	memcpy(map + 100, "XYZ", 3);
	if (write(ctl[1], "g", 1) != 1)
		return pr_perror("write");
	if (waitpid(kid, &status, 0) != kid)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child failed after C/R (status %#x)", status);
		return 1;
	}
	if (lseek(fd, 0, SEEK_CUR) != 103) {
		fail("the shared offset is %ld after the child's read, expected 103", (long)lseek(fd, 0, SEEK_CUR));
		return 1;
	}
	pass();
	return 0;
}
