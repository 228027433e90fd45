#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "zdtmtst.h"

const char *test_doc = "A SysV segment of 6 pages attached at a fixed address, its third page mprotect()ed "
		       "read-only and its last page unmapped (three VMAs, shm_nattch 3), written after the attach: "
		       "after C/R the same VMAs are there, shm_nattch is 3, every byte is back, the hole is still "
		       "unmapped, and shmdt() of the address detaches them all";
const char *test_author = "Stasis developers";

#define PAGE 4096
#define NPAGES 6

static unsigned char pattern(int i)
{
	return (unsigned char)(i * 31 + 7);
}

int main(int argc, char **argv)
{
	struct shmid_ds ds;
	unsigned char *want, *p;
	int id, i;

	test_init(argc, argv);

	/* a free place: reserve it, free it, attach there */
	want = mmap(NULL, (NPAGES + 2) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (want == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	munmap(want, (NPAGES + 2) * PAGE);
	want += PAGE;
	id = shmget(IPC_PRIVATE, NPAGES * PAGE, IPC_CREAT | 0600);
	if (id < 0) {
		pr_perror("shmget");
		return 1;
	}
	p = shmat(id, want, 0);
	if (p != want) {
		pr_perror("shmat at %p", want);
		return 1;
	}
	for (i = 0; i < NPAGES * PAGE; i++)
		p[i] = pattern(i);
	if (mprotect(p + 2 * PAGE, PAGE, PROT_READ) || munmap(p + (NPAGES - 1) * PAGE, PAGE)) {
		pr_perror("mprotect/munmap");
		return 1;
	}
	if (shmctl(id, IPC_STAT, &ds) || ds.shm_nattch != 3) {
		pr_err("nattch %lu before C/R, expected 3\n", (unsigned long)ds.shm_nattch);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (shmctl(id, IPC_STAT, &ds) || ds.shm_nattch != 3) {
		fail("shm_nattch is %lu after C/R, expected 3", (unsigned long)ds.shm_nattch);
		return 1;
	}
	for (i = 0; i < (NPAGES - 1) * PAGE; i++)
		if (p[i] != pattern(i)) {
			errno = 0;
			fail("byte %d is %#x after C/R", i, p[i]);
			return 1;
		}
	if (msync(p + (NPAGES - 1) * PAGE, PAGE, MS_ASYNC) == 0 || errno != ENOMEM) {
		fail("the unmapped last page is mapped after C/R");
		return 1;
	}
	p[0] = 1;
	p[3 * PAGE] = 2;
	if (shmdt(p)) {
		fail("shmdt after C/R");
		return 1;
	}
	if (shmctl(id, IPC_STAT, &ds) || ds.shm_nattch != 0) {
		fail("shm_nattch is %lu after shmdt", (unsigned long)ds.shm_nattch);
		return 1;
	}
	p = shmat(id, NULL, SHM_RDONLY);
	if (p == (void *)-1 || p[0] != 1 || p[3 * PAGE] != 2 || p[(NPAGES - 1) * PAGE] != pattern((NPAGES - 1) * PAGE)) {
		fail("the segment after C/R and shmdt");
		return 1;
	}
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
	pass();
	return 0;
}
