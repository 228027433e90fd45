#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "vmflags.h"

const char *test_doc = "Check that a MAP_DROPPABLE mapping stays droppable across C/R: the same VmFlags line (dp, and "
		       "the wf/dd/nr that come with it) and a forked child sees it wiped";
const char *test_author = "Stasis developers";

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif

#define NPAGES 4

/* A child must see the region zeroed (droppable implies wipe-on-fork) */
static int child_sees_zeroes(volatile uint8_t *area)
{
	int status, i;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		for (i = 0; i < NPAGES * PAGE_SIZE; i++)
			if (area[i])
				_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
	char before[512], after[512];
	volatile uint8_t *area;
	int i;

	test_init(argc, argv);

	area = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		if (errno == EINVAL || errno == EOPNOTSUPP) {
			skip("MAP_DROPPABLE is not supported");
			test_daemon();
			test_waitsig();
			pass();
			return 0;
		}
		pr_perror("mmap(MAP_DROPPABLE)");
		return 1;
	}
	for (i = 0; i < NPAGES; i++)
		area[i * PAGE_SIZE] = 0x11 + i;
	if (vma_flags((unsigned long)area, before, sizeof(before), NULL, NULL) || !has_vmflag(before, "dp")) {
		pr_err("the MAP_DROPPABLE region has VmFlags '%s', no dp\n", before);
		return 1;
	}
	if (child_sees_zeroes(area) != 1) {
		pr_err("a child does not see the droppable region wiped\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (vma_flags((unsigned long)area, after, sizeof(after), NULL, NULL)) {
		fail("the droppable region is not mapped any more");
		return 1;
	}
	if (strcmp(before, after)) {
		fail("VmFlags of the droppable region were '%s', now '%s'", before, after);
		return 1;
	}
	if (child_sees_zeroes(area) != 1) {
		fail("a child forked after C/R does not see the droppable region wiped");
		return 1;
	}
	/* The kernel may drop the pages under pressure, but then they read as zero */
	for (i = 0; i < NPAGES; i++)
		if (area[i * PAGE_SIZE] != 0x11 + i && area[i * PAGE_SIZE] != 0) {
			fail("page %d holds %#x, neither its data nor zero", i, area[i * PAGE_SIZE]);
			return 1;
		}
	pass();
	return 0;
}
