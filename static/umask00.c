#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the umask survives C/R (umask(), /proc/self/status and the mode of a new file)";
const char *test_author = "Stasis developers";

static char *mask;
TEST_OPTION(mask, string, "umask to set, octal", 1);

static char *filename;
TEST_OPTION(filename, string, "file to create after C/R", 1);

/* The kernel's view: the "Umask:" line of /proc/self/status */
static int status_umask(mode_t *m)
{
	char line[256];
	FILE *f;
	int ret = -1;

	f = fopen("/proc/self/status", "r");
	if (!f) {
		pr_perror("fopen(/proc/self/status)");
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned int v;

		if (sscanf(line, "Umask: %o", &v) == 1) {
			*m = v;
			ret = 0;
			break;
		}
	}
	fclose(f);
	if (ret)
		pr_err("no Umask line in /proc/self/status\n");
	return ret;
}

int main(int argc, char **argv)
{
	mode_t want, got, st_mask;
	char *end;
	struct stat st;
	int fd;

	test_init(argc, argv);

	want = strtoul(mask, &end, 8) & 0777;
	if (*end || !*mask) {
		pr_err("--mask=%s is not an octal number\n", mask);
		return 1;
	}

	umask(want);

	test_daemon();
	test_waitsig();

	if (status_umask(&st_mask)) {
		fail("cannot read the umask from /proc/self/status");
		return 1;
	}
	got = umask(want);
	if (got != want) {
		fail("umask is %04o, expected %04o", got, want);
		return 1;
	}
	if (st_mask != want) {
		fail("/proc/self/status says umask %04o, expected %04o", st_mask, want);
		return 1;
	}

	fd = open(filename, O_CREAT | O_EXCL | O_WRONLY, 0777);
	if (fd < 0) {
		fail("cannot create %s", filename);
		return 1;
	}
	if (fstat(fd, &st)) {
		fail("fstat");
		return 1;
	}
	close(fd);
	unlink(filename);
	if ((st.st_mode & 0777) != (0777 & ~want)) {
		fail("new file has mode %04o, expected %04o", st.st_mode & 0777, 0777 & ~want);
		return 1;
	}

	pass();
	return 0;
}
