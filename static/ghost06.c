#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A deleted file held only by its mappings, one shared and writable, one private with a "
		       "page written (copied on write): after C/R the shared mapping has the file's data and its "
		       "writes show through the private mapping's unwritten pages, the private page keeps its "
		       "own data, and both map the same unlinked file";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define PG 4096

int main(int argc, char **argv)
{
	uint8_t *shr, *prv;
	char line[512], *p;
	struct stat st;
	int fd, i, seen = 0;
	FILE *f;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, 3 * PG))
		return pr_perror("open %s", filename);
	shr = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	prv = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PG);
	if (shr == MAP_FAILED || prv == MAP_FAILED)
		return pr_perror("mmap");
	for (i = 0; i < 3 * PG; i++)
		shr[i] = (uint8_t)('a' + i / PG);
	prv[0] = 'P'; /* file page 1 copied */
	if (fstat(fd, &st) || close(fd) || unlink(filename))
		return pr_perror("unlink");

	test_daemon();
	test_waitsig();

	if (shr[0] != 'a' || shr[PG] != 'b' || shr[2 * PG + 5] != 'c' || prv[0] != 'P' || prv[1] != 'b' ||
	    prv[PG] != 'c') {
		fail("content after C/R: %c %c %c, private %c %c %c", shr[0], shr[PG], shr[2 * PG + 5], prv[0], prv[1],
		     prv[PG]);
		return 1;
	}
	shr[2 * PG] = 'Z';
	shr[PG + 1] = 'Y';
	if (prv[PG] != 'Z' || prv[1] != 'b') {
		fail("the private mapping does not map the shared one's file after C/R (%c %c)", prv[PG], prv[1]);
		return 1;
	}
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return pr_perror("maps");
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, filename);
		if (p && strstr(p, " (deleted)")) {
			unsigned long ino = 0;

			if (sscanf(line, "%*s %*s %*s %*s %lu", &ino) != 1 || ino == 0) {
				fail("a mapping without an inode: %s", line);
				fclose(f);
				return 1;
			}
			seen++;
		}
	}
	fclose(f);
	if (seen != 2) {
		fail("%d mappings of the deleted %s after C/R, expected 2", seen, filename);
		return 1;
	}
	if (access(filename, F_OK) == 0) {
		fail("%s exists again after C/R", filename);
		return 1;
	}
	pass();
	return 0;
}
