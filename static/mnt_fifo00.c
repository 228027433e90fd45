#include "mnt_util.h"

const char *test_doc = "A FIFO in a tmpfs the test mounts, open for reading and for writing with data queued, "
		       "and a second FIFO open read-write and unlinked: after C/R the data is there, the FIFO's "
		       "file is in the tmpfs with its mode, and both carry new data";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "mount point", 1);

int main(int argc, char **argv)
{
	int r, w, u;
	char buf[32];
	struct stat st;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || mount("zdtm_mnt_fifo00", dirname, "tmpfs", 0, NULL) || chdir(dirname) ||
	    mkfifo("fifo", 0620) || chmod("fifo", 0620) || mkfifo("gone", 0600)) {
		pr_perror("prepare %s", dirname);
		return 1;
	}
	r = open("fifo", O_RDONLY | O_NONBLOCK);
	w = open("fifo", O_WRONLY);
	u = open("gone", O_RDWR);
	if (r < 0 || w < 0 || u < 0 || write(w, "queued", 6) != 6 || write(u, "in gone", 7) != 7 || unlink("gone")) {
		pr_perror("open the FIFOs");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (read(r, buf, sizeof(buf)) != 6 || memcmp(buf, "queued", 6) || read(u, buf, sizeof(buf)) != 7 ||
	    memcmp(buf, "in gone", 7)) {
		fail("the queued data after C/R");
		return 1;
	}
	if (stat("fifo", &st) || !S_ISFIFO(st.st_mode) || (st.st_mode & 07777) != 0620 || fstat(r, &st) ||
	    !S_ISFIFO(st.st_mode) || access("gone", F_OK) == 0) {
		fail("the FIFO files after C/R");
		return 1;
	}
	if (write(w, "new", 3) != 3 || read(r, buf, sizeof(buf)) != 3 || write(u, "again", 5) != 5 ||
	    read(u, buf, sizeof(buf)) != 5) {
		fail("the FIFOs do not carry data after C/R");
		return 1;
	}
	pass();
	return 0;
}
