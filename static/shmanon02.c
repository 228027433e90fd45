#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

/*
 * One 4-page MAP_SHARED|MAP_ANONYMOUS object mapped differently by a parent and a child. Layout 2: the parent
 * (the first mapper in pid order) unmaps the first two pages (its VMA starts at pgoff 2), the child keeps all four.
 * Layout 3: the parent keeps pages 2-3 only, the child moves pages 1-3 elsewhere with mremap (pgoff 1) and unmaps
 * page 0: nobody maps page 0.
 */
#ifndef SHM_LAYOUT
#define SHM_LAYOUT 2
const char *test_doc = "A shared anonymous object the parent maps from page 2 on and the child maps whole: after C/R "
		       "each sees the other's writes at the right offsets and /proc/PID/maps offsets are unchanged";
#endif
const char *test_author = "Stasis developers";

#define NPAGES 4
#define PARENT_FIRST 2
#if SHM_LAYOUT == 2
#define CHILD_FIRST 0
#else
#define CHILD_FIRST 1
#endif

static pid_t child;
static int to_child[2], to_parent[2];

/* The data page @pg of the object holds before C/R */
static void fill(uint8_t *p, int pg)
{
	int i;

	for (i = 0; i < PAGE_SIZE; i++)
		p[i] = (uint8_t)(pg * 37 + i * 7 + 1);
}

static int same(const uint8_t *p, int pg)
{
	int i;

	for (i = 0; i < PAGE_SIZE; i++)
		if (p[i] != (uint8_t)(pg * 37 + i * 7 + 1))
			return 0;
	return 1;
}

/* "start-end offset" of the maps line of @pid at @addr */
static int maps_line(pid_t pid, unsigned long addr, unsigned long *end, unsigned long *off)
{
	char path[64], line[512];
	unsigned long s, e, o;
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %*s %lx", &s, &e, &o) == 3 && s == addr) {
			*end = e;
			*off = o;
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

static int check_maps(pid_t pid, uint8_t *addr, int first, const char *who, const char *when)
{
	unsigned long e = 0, o = 0;

	if (maps_line(pid, (unsigned long)addr, &e, &o) || e != (unsigned long)addr + (NPAGES - first) * PAGE_SIZE ||
	    o != (unsigned long)first * PAGE_SIZE) {
		fail("%s: %s mapping at %p ends at %#lx with offset %#lx, expected end %#lx offset %#lx", when, who,
		     addr, e, o, (unsigned long)addr + (NPAGES - first) * PAGE_SIZE,
		     (unsigned long)first * PAGE_SIZE);
		return 1;
	}
	return 0;
}

/* The child's view: @m maps object pages CHILD_FIRST.. */
static int child_main(uint8_t *m)
{
	char cmd;
	int pg;

	if (read(to_child[0], &cmd, 1) != 1)
		_exit(2);
	/* after C/R: its own pages hold the old data except those the parent wrote */
	for (pg = CHILD_FIRST; pg < NPAGES; pg++) {
		uint8_t *p = m + (pg - CHILD_FIRST) * PAGE_SIZE;

		if (pg < PARENT_FIRST && !same(p, pg))
			cmd = 'd';
		if (pg >= PARENT_FIRST && (p[100] != 0xa0 + pg || p[101] != 0x0a))
			cmd = 'w';
		if (pg >= PARENT_FIRST) {
			p[100] = 0x0a;
			p[200] = 0xc0 + pg;
		}
	}
	if (write(to_parent[1], &cmd, 1) != 1)
		_exit(3);
	pause();
	_exit(0);
}

static void kill_child(void)
{
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

int main(int argc, char **argv)
{
	uint8_t *obj, *cm, *pm;
	char reply;
	int pg, status;

	test_init(argc, argv);

	obj = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (obj == MAP_FAILED || pipe(to_child) || pipe(to_parent)) {
		pr_perror("mmap/pipe");
		return 1;
	}
	for (pg = 0; pg < NPAGES; pg++)
		fill(obj + pg * PAGE_SIZE, pg);

	child = fork();
	if (child < 0) {
		pr_perror("fork");
		return 1;
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		cm = obj;
#if SHM_LAYOUT == 3
		/* move pages 1..3 to a fresh place, drop page 0 */
		{
			uint8_t *where = mmap(NULL, (NPAGES + 4) * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (where == MAP_FAILED)
				_exit(4);
			munmap(where, (NPAGES + 4) * PAGE_SIZE);
			cm = mremap(obj + PAGE_SIZE, (NPAGES - 1) * PAGE_SIZE, (NPAGES - 1) * PAGE_SIZE,
				    MREMAP_MAYMOVE | MREMAP_FIXED, where + 2 * PAGE_SIZE);
			if (cm == MAP_FAILED || munmap(obj, PAGE_SIZE))
				_exit(5);
		}
#endif
		if (write(to_parent[1], "r", 1) != 1)
			_exit(6);
		child_main(cm);
	}
	pm = obj + PARENT_FIRST * PAGE_SIZE;
	if (munmap(obj, PARENT_FIRST * PAGE_SIZE)) {
		pr_perror("munmap");
		kill_child();
		return 1;
	}
	if (read(to_parent[0], &reply, 1) != 1 || reply != 'r') {
		pr_err("the child did not set up its mapping\n");
		kill_child();
		return 1;
	}
#if SHM_LAYOUT == 2
	cm = obj;
#else
	{
		/* find the child's moved mapping: the one at offset 0x1000 of 3 pages */
		char path[64], line[512];
		unsigned long s, e, o;
		FILE *f;

		cm = NULL;
		snprintf(path, sizeof(path), "/proc/%d/maps", child);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "%lx-%lx %*s %lx", &s, &e, &o) == 3 && o == PAGE_SIZE &&
			    e - s == (NPAGES - 1) * PAGE_SIZE && strstr(line, "/dev/zero"))
				cm = (uint8_t *)s;
		if (f)
			fclose(f);
		if (!cm) {
			pr_err("can't find the child's moved mapping\n");
			kill_child();
			return 1;
		}
	}
#endif
	if (check_maps(getpid(), pm, PARENT_FIRST, "the parent's", "before C/R") ||
	    check_maps(child, cm, CHILD_FIRST, "the child's", "before C/R")) {
		kill_child();
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (check_maps(getpid(), pm, PARENT_FIRST, "the parent's", "after C/R") ||
	    check_maps(child, cm, CHILD_FIRST, "the child's", "after C/R")) {
		kill_child();
		return 1;
	}
	for (pg = PARENT_FIRST; pg < NPAGES; pg++) {
		uint8_t *p = pm + (pg - PARENT_FIRST) * PAGE_SIZE;

		if (!same(p, pg)) {
			fail("the parent's view of object page %d lost its data", pg);
			kill_child();
			return 1;
		}
		p[100] = 0xa0 + pg;
		p[101] = 0x0a;
	}
	if (write(to_child[1], "c", 1) != 1 || read(to_parent[0], &reply, 1) != 1) {
		fail("no reply from the child");
		kill_child();
		return 1;
	}
	if (reply != 'c') {
		fail("the child sees %s", reply == 'd' ? "its own pages with other data" :
							 "the parent's writes not at the right offsets");
		kill_child();
		return 1;
	}
	for (pg = PARENT_FIRST; pg < NPAGES; pg++) {
		uint8_t *p = pm + (pg - PARENT_FIRST) * PAGE_SIZE;

		if (p[100] != 0x0a || p[200] != 0xc0 + pg) {
			fail("the parent does not see the child's writes to object page %d (%#x %#x)", pg, p[100],
			     p[200]);
			kill_child();
			return 1;
		}
	}
	kill(child, SIGKILL);
	if (waitpid(child, &status, 0) != child) {
		fail("waitpid");
		return 1;
	}
	pass();
	return 0;
}
