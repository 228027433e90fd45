#include <grp.h>
#include <termios.h>
#include <sys/ioctl.h>

#include "mnt_util.h"

const char *test_doc = "A second devpts instance the test mounts (newinstance,ptmxmode=0620,mode=0600,gid=5) next "
		       "to the namespace's own /dev/pts, where a pty pair is open with termios of its own: after "
		       "C/R mountinfo shows the instance's options, its ptmx has mode 0620, a pty opened there "
		       "gets index 0 with a slave node of mode 0600 and group 5 that carries data, and the pair of "
		       "/dev/pts still works with its termios";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "mount point", 1);

/* no echo, no line discipline: what one end writes, the other reads */
static int make_raw(int s, struct termios *t)
{
	if (tcgetattr(s, t))
		return pr_perror("tcgetattr");
	t->c_lflag &= ~(ECHO | ICANON | ISIG | IEXTEN);
	t->c_oflag &= ~OPOST;
	t->c_iflag &= ~(ICRNL | IXON);
	t->c_cc[VMIN] = 1;
	t->c_cc[VTIME] = 0;
	if (tcsetattr(s, TCSANOW, t))
		return pr_perror("tcsetattr");
	return 0;
}

static int pair_works(int m, int s)
{
	char buf[8];

	if (write(m, "ping\n", 5) != 5 || read(s, buf, sizeof(buf)) != 5 || memcmp(buf, "ping\n", 5)) {
		pr_perror("master to slave");
		return -1;
	}
	if (write(s, "pong", 4) != 4 || read(m, buf, sizeof(buf)) != 4 || memcmp(buf, "pong", 4)) {
		pr_perror("slave to master");
		return -1;
	}
	return 0;
}

static int instance_ok(void)
{
	struct mu_info mi;
	struct termios t;
	char p[PATH_MAX];
	struct stat st;
	int m, s, n;

	if (mu_info(dirname, &mi) || strcmp(mi.fstype, "devpts") || !mu_has_opt(mi.super, "ptmxmode=620") ||
	    !mu_has_opt(mi.super, "mode=600")) { /* gid= shows as the host's id in a user namespace */
		pr_err("%s: %s %s\n", dirname, mi.fstype, mi.super);
		return -1;
	}
	ssprintf(p, "%s/ptmx", dirname);
	if (stat(p, &st) || (st.st_mode & 07777) != 0620) {
		pr_err("%s: mode %o\n", p, st.st_mode & 07777);
		return -1;
	}
	m = open(p, O_RDWR | O_NOCTTY);
	if (m < 0 || ioctl(m, TIOCGPTN, &n) || n != 0 || unlockpt(m))
		return pr_perror("a pty in %s (index %d)", dirname, n);
	ssprintf(p, "%s/0", dirname);
	s = open(p, O_RDWR | O_NOCTTY);
	if (s < 0 || fstat(s, &st) || (st.st_mode & 07777) != 0600 || st.st_gid != 5) {
		pr_perror("%s: mode %o group %d", p, st.st_mode & 07777, (int)st.st_gid);
		return -1;
	}
	if (make_raw(s, &t) || pair_works(m, s))
		return -1;
	close(s);
	close(m);
	return 0;
}

int main(int argc, char **argv)
{
	struct termios t, now;
	int m, s;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) ||
	    mount("zdtm_mnt_devpts00", dirname, "devpts", 0, "newinstance,ptmxmode=0620,mode=0600,gid=5")) {
		pr_perror("mount devpts on %s", dirname);
		return 1;
	}
	m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
	if (m < 0 || unlockpt(m) || (s = open(ptsname(m), O_RDWR | O_NOCTTY)) < 0) {
		pr_perror("a pty in /dev/pts");
		return 1;
	}
	if (make_raw(s, &t) || instance_ok())
		return 1;

	test_daemon();
	test_waitsig();

	if (instance_ok()) {
		fail("the devpts instance after C/R");
		return 1;
	}
	if (tcgetattr(s, &now) || now.c_lflag != t.c_lflag || now.c_oflag != t.c_oflag ||
	    now.c_iflag != t.c_iflag || pair_works(m, s)) {
		fail("the pty of /dev/pts after C/R");
		return 1;
	}
	pass();
	return 0;
}
