#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "Two SysV segments in the test's own IPC namespace: one attached SHM_RDONLY, one attached "
		       "read-write and then mprotect()ed read-only (it may be made writable again): after C/R the "
		       "first is still a read-only attach (mprotect(PROT_WRITE) fails with EACCES), the second "
		       "can be made writable again and its writes reach the segment; content and shm_nattch kept";
const char *test_author = "Stasis developers";

#define SIZE (3 * 4096)

static unsigned char pattern(int i, int seed)
{
	return (unsigned char)(i * 13 + seed);
}

/* the permissions column of the maps line of addr, and its map_files mode */
static int perms_of(void *addr, char *perms, mode_t *mode)
{
	char line[512], path[64];
	unsigned long s, e;
	struct stat st;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %4s", &s, &e, perms) == 3 && s == (unsigned long)addr) {
			fclose(f);
			ssprintf(path, "/proc/self/map_files/%lx-%lx", s, e);
			if (lstat(path, &st))
				return -1;
			*mode = st.st_mode & 0777;
			return 0;
		}
	}
	fclose(f);
	return -1;
}

int main(int argc, char **argv)
{
	int ro_id, rw_id, i;
	unsigned char *ro, *rw, *w;
	struct shmid_ds ds;
	char perms[8];
	mode_t mode;

	test_init(argc, argv);

	ro_id = shmget(IPC_PRIVATE, SIZE, IPC_CREAT | 0600);
	rw_id = shmget(0x5a21, SIZE, IPC_CREAT | IPC_EXCL | 0644);
	if (ro_id < 0 || rw_id < 0) {
		pr_perror("shmget");
		return 1;
	}
	w = shmat(ro_id, NULL, 0);
	if (w == (void *)-1) {
		pr_perror("shmat");
		return 1;
	}
	for (i = 0; i < SIZE; i++)
		w[i] = pattern(i, 1);
	shmdt(w);
	ro = shmat(ro_id, NULL, SHM_RDONLY);
	rw = shmat(rw_id, NULL, 0);
	if (ro == (void *)-1 || rw == (void *)-1) {
		pr_perror("shmat");
		return 1;
	}
	for (i = 0; i < SIZE; i++)
		rw[i] = pattern(i, 2);
	if (mprotect(rw, SIZE, PROT_READ)) {
		pr_perror("mprotect");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (perms_of(ro, perms, &mode) || strcmp(perms, "r--s") || mode != 0400) {
		fail("the read-only attach after C/R: %s, map_files mode %o", perms, mode);
		return 1;
	}
	if (perms_of(rw, perms, &mode) || strcmp(perms, "r--s") || mode != 0600) {
		fail("the read-write attach after C/R: %s, map_files mode %o", perms, mode);
		return 1;
	}
	for (i = 0; i < SIZE; i++)
		if (ro[i] != pattern(i, 1) || rw[i] != pattern(i, 2)) {
			errno = 0;
			fail("byte %d after C/R: %#x %#x", i, ro[i], rw[i]);
			return 1;
		}
	if (mprotect(ro, SIZE, PROT_READ | PROT_WRITE) == 0 || errno != EACCES) {
		fail("the SHM_RDONLY attach can be made writable after C/R");
		return 1;
	}
	if (mprotect(rw, SIZE, PROT_READ | PROT_WRITE)) {
		fail("the read-write attach cannot be made writable again after C/R");
		return 1;
	}
	rw[5] = 0x77;
	w = shmat(rw_id, NULL, SHM_RDONLY);
	if (w == (void *)-1 || w[5] != 0x77) {
		fail("a write through the attach does not reach the segment");
		return 1;
	}
	shmdt(w);
	if (shmctl(ro_id, IPC_STAT, &ds) || ds.shm_nattch != 1 || shmctl(rw_id, IPC_STAT, &ds) ||
	    ds.shm_nattch != 1 || (ds.shm_perm.mode & 0777) != 0644 || shmget(0x5a21, 0, 0) != rw_id) {
		fail("the segments after C/R (nattch %lu mode %o)", (unsigned long)ds.shm_nattch,
		     ds.shm_perm.mode & 0777);
		return 1;
	}
	shmdt(ro);
	shmdt(rw);
	shmctl(ro_id, IPC_RMID, NULL);
	shmctl(rw_id, IPC_RMID, NULL);
	pass();
	return 0;
}
