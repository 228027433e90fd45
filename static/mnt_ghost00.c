#include <sys/mman.h>

#include "mnt_util.h"

const char *test_doc = "Files of a tmpfs the test mounts that were unlinked while in use: one held open at an "
		       "offset and mapped shared (written through the mapping), one only mapped privately (its fd "
		       "closed), and a name reused by a new file: after C/R the open file goes on at its offset "
		       "with its content, the shared mapping and the fd see each other's writes, the private "
		       "mapping keeps its content, the unlinked names do not exist and the reused one is the new "
		       "file";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "mount point", 1);

#define SZ 8192

int main(int argc, char **argv)
{
	char *shared, *priv, buf[16];
	struct stat st;
	int fd, pfd;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || mount("zdtm_mnt_ghost00", dirname, "tmpfs", 0, NULL) || chdir(dirname)) {
		pr_perror("mount %s", dirname);
		return 1;
	}
	fd = open("open", O_CREAT | O_RDWR, 0640);
	pfd = open("mapped", O_CREAT | O_RDWR, 0600);
	if (fd < 0 || pfd < 0 || ftruncate(fd, SZ) || pwrite(pfd, "private content", 15, 100) != 15 ||
	    ftruncate(pfd, SZ)) {
		pr_perror("files");
		return 1;
	}
	shared = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	priv = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE, pfd, 0);
	if (shared == MAP_FAILED || priv == MAP_FAILED)
		return pr_perror("mmap");
	memcpy(shared + 4096, "through map", 11);
	memcpy(priv, "cow", 3);
	if (pwrite(fd, "through fd", 10, 0) != 10 || lseek(fd, 1234, SEEK_SET) != 1234 || close(pfd) ||
	    unlink("open") || unlink("mapped") || mu_put("mapped", "the new file", 0644)) {
		pr_perror("unlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (lseek(fd, 0, SEEK_CUR) != 1234 || fstat(fd, &st) || st.st_nlink != 0 || st.st_size != SZ ||
	    (st.st_mode & 07777) != 0640) {
		fail("the unlinked open file after C/R");
		return 1;
	}
	if (memcmp(shared, "through fd", 10) || pread(fd, buf, 11, 4096) != 11 || memcmp(buf, "through map", 11)) {
		fail("the content of the unlinked file after C/R");
		return 1;
	}
	memcpy(shared + 200, "later", 5);
	if (pread(fd, buf, 5, 200) != 5 || memcmp(buf, "later", 5) || pwrite(fd, "again", 5, 300) != 5 ||
	    memcmp(shared + 300, "again", 5)) {
		fail("the shared mapping and the fd after C/R");
		return 1;
	}
	if (memcmp(priv, "cow", 3) || memcmp(priv + 100, "private content", 15)) {
		fail("the private mapping after C/R");
		return 1;
	}
	if (access("open", F_OK) == 0 || mu_get("mapped", "the new file")) {
		fail("the names after C/R");
		return 1;
	}
	pass();
	return 0;
}
