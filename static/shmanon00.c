#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "MAP_SHARED|MAP_ANONYMOUS pages keep their data, stay writable and stay shared "
		       "(a child forked after restore sees the parent's writes and vice versa)";
const char *test_author = "Stasis developers";

#define NR_PAGES 16
#define SIZE (NR_PAGES * PAGE_SIZE)

static char perms_before[8];

static int get_perms(void *addr, char *perms)
{
	char line[512];
	unsigned long s, e;
	int ret = -1;
	FILE *f;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3 && s == (unsigned long)addr) {
			ret = e - s == SIZE ? 0 : -1;
			break;
		}
	}
	fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	uint8_t *map, *copy;
	char perms[8];
	uint32_t crc;
	int status;
	pid_t pid;

	test_init(argc, argv);

	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	copy = malloc(SIZE);
	if (map == MAP_FAILED || !copy) {
		pr_perror("mmap/malloc");
		return 1;
	}
	crc = ~0;
	datagen(map, SIZE - PAGE_SIZE, &crc); /* the last page is left untouched (a hole) */
	memcpy(copy, map, SIZE);
	if (get_perms(map, perms_before)) {
		pr_err("no maps line for the area\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (get_perms(map, perms) || strcmp(perms, perms_before)) {
		fail("maps line of the area changed (perms %s, before %s)", perms, perms_before);
		return 1;
	}
	if (memcmp(map, copy, SIZE)) {
		fail("shared anonymous data changed");
		return 1;
	}

	/* Write again after restore */
	crc = ~0;
	datagen(map, SIZE, &crc);
	memcpy(copy, map, SIZE);
	if (memcmp(map, copy, SIZE)) {
		fail("data written after C/R does not read back");
		return 1;
	}

	/* The mapping must still be shared memory, not a private copy. */
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0) {
		if (memcmp(map, copy, SIZE))
			_exit(2);
		memset(map + PAGE_SIZE, 0xc3, PAGE_SIZE);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("child check failed (status %#x)", status);
		return 1;
	}
	memset(copy + PAGE_SIZE, 0xc3, PAGE_SIZE);
	if (memcmp(map, copy, SIZE)) {
		fail("a child's write is not visible to the parent: the area is no longer MAP_SHARED");
		return 1;
	}

	pass();
	return 0;
}
