#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "memfds mapped shared and private: a private mapping with some pages written (copied "
		       "on write) and others not, a shared mapping, and a memfd whose fd was closed so only its "
		       "mappings hold it: after C/R private pages keep their own data, unwritten private pages "
		       "and the shared mapping show the memfd, and writes through the shared mapping reach the fd";
const char *test_author = "Stasis developers";

#define PG 4096
#define NPG 4

int main(int argc, char **argv)
{
	uint8_t *shr, *prv, *only_shr, *only_prv;
	int fd, fd2, i;
	char buf[PG];
	FILE *f;
	char line[512];
	int seen = 0;

	test_init(argc, argv);

	fd = memfd_create("mapped", MFD_CLOEXEC);
	fd2 = memfd_create("maponly", 0);
	if (fd < 0 || fd2 < 0 || ftruncate(fd, NPG * PG) || ftruncate(fd2, 2 * PG))
		return pr_perror("memfd_create");
	shr = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	prv = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PG);
	only_shr = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	only_prv = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd2, PG);
	if (shr == MAP_FAILED || prv == MAP_FAILED || only_shr == MAP_FAILED || only_prv == MAP_FAILED)
		return pr_perror("mmap");
	close(fd2);
	for (i = 0; i < NPG * PG; i++)
		shr[i] = (uint8_t)(i / PG + 'a');
	memset(only_shr, 'M', 2 * PG);
	memset(prv, 'P', PG); /* file page 1: now private; file page 2 stays shared through prv + PG */

	test_daemon();
	test_waitsig();

	for (i = 0; i < PG; i++)
		if (prv[i] != 'P' || prv[PG + i] != 'c' || shr[PG + i] != 'b' || only_shr[i] != 'M' ||
		    only_prv[i] != 'M') {
			fail("content at %d after C/R: private %c %c, shared %c, map-only %c %c", i, prv[i], prv[PG + i],
			     shr[PG + i], only_shr[i], only_prv[i]);
			return 1;
		}
	shr[2 * PG] = 'Z'; /* not copied in the private mapping: it shows there too */
	shr[PG] = 'Q'; /* copied: it does not */
	if (prv[PG] != 'Z' || prv[0] != 'P') {
		fail("the private mapping is not a private mapping of the memfd after C/R (%c %c)", prv[PG], prv[0]);
		return 1;
	}
	if (pread(fd, buf, 1, 2 * PG) != 1 || buf[0] != 'Z') {
		fail("a write through the shared mapping does not reach the fd after C/R");
		return 1;
	}
	only_shr[PG] = 'N';
	if (only_prv[0] != 'N') {
		fail("the two mappings of the map-only memfd are not one object after C/R");
		return 1;
	}
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return pr_perror("maps");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/memfd:maponly (deleted)"))
			seen++;
	fclose(f);
	if (seen != 2) {
		fail("%d mappings of /memfd:maponly after C/R, expected 2", seen);
		return 1;
	}
	pass();
	return 0;
}
