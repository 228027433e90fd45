#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Shared anonymous memory of a size that is not a multiple of the page size (--shmem_size, "
		       "5000 in upstream's build) shared by a parent and a child: after C/R both see each other's "
		       "writes, the data of before is there, and the tail past the size still faults in as zeroes";
const char *test_author = "Stasis developers";

static unsigned int shmem_size;
TEST_OPTION(shmem_size, uint, "size of the shared memory", 1);

int main(int argc, char **argv)
{
	int go[2], ready[2], status;
	size_t len, i;
	uint8_t *m;
	pid_t pid;
	char c;

	test_init(argc, argv);

#ifdef ZDTM_SHM_UNALIGNED
	len = shmem_size; /* mmap rounds it up: the mapping covers the rest of the last page */
#else
	len = (shmem_size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
#endif
	if (len == 0 || len % PAGE_SIZE == 0) {
		pr_err("--shmem_size=%u is no unaligned size\n", shmem_size);
		return 1;
	}
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || pipe(go) || pipe(ready)) {
		pr_perror("mmap");
		return 1;
	}
	for (i = 0; i < len / 2; i++)
		m[i] = (uint8_t)(i * 31 + 7);
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(go[1]);
		close(ready[0]);
		for (i = len / 2; i < len; i++)
			m[i] = (uint8_t)(i * 17 + 3);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		/* the parent's write after C/R is seen here, ours there */
		if (m[0] != 0xee)
			_exit(4);
		m[len - 1] = 0xdd;
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child did not start\n");
		goto err;
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < len; i++)
		if (m[i] != (uint8_t)(i < len / 2 ? i * 31 + 7 : i * 17 + 3)) {
			fail("byte %zu of %zu changed", i, len);
			goto err;
		}
	m[0] = 0xee;
	if (write(go[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child: %#x (4: it did not see our write)", status);
		return 1;
	}
	if (m[len - 1] != 0xdd) {
		fail("the child's write after C/R is not seen: the memory is not shared any more");
		return 1;
	}
	for (i = len; i < ((len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)); i++)
		if (m[i]) {
			fail("the tail of the last page has data at %zu", i);
			return 1;
		}
	pass();
	return 0;
err:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
