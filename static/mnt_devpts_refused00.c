#include <sys/ioctl.h>

#include "mnt_util.h"

const char *test_doc = "A pty pair open in a second devpts instance the test mounts (not the namespace's "
		       "/dev/pts): the engine reopens ptys only through the tree's /dev/pts, so the dump must "
		       "be refused naming the pty, with the tree left running; the pair still works after";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "mount point", 1);

int main(int argc, char **argv)
{
	char p[PATH_MAX], buf[8];
	int m, s;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || mount("zdtm_mnt_devpts_refused00", dirname, "devpts", 0, "newinstance")) {
		pr_perror("mount devpts on %s", dirname);
		return 1;
	}
	ssprintf(p, "%s/ptmx", dirname);
	m = open(p, O_RDWR | O_NOCTTY);
	ssprintf(p, "%s/0", dirname);
	if (m < 0 || unlockpt(m) || (s = open(p, O_RDWR | O_NOCTTY)) < 0) {
		pr_perror("a pty in %s", dirname);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (write(m, "pong\n", 5) != 5 || read(s, buf, sizeof(buf)) != 5 || memcmp(buf, "pong\n", 5)) {
		fail("the pair after the refused dump");
		return 1;
	}
	pass();
	return 0;
}
