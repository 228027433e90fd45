#include <sys/socket.h>
#include <sys/un.h>

#include "mnt_util.h"

const char *test_doc = "Socket files in a tmpfs the test mounts that no socket is bound to any more (their "
		       "sockets closed), one of mode 0640 owned by another uid, one hard-linked under a second "
		       "name, next to a socket still bound there: after C/R the files are still sockets with "
		       "their modes, owners and links, connecting to the orphaned ones is refused "
		       "(ECONNREFUSED) and the bound one takes connections";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "mount point", 1);

static int bound(const char *path, int type)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int sk = socket(AF_UNIX, type, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (sk < 0 || bind(sk, (struct sockaddr *)&a, sizeof(a))) {
		pr_perror("bind %s", path);
		return -1;
	}
	return sk;
}

static int connect_to(const char *path, int type)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int sk = socket(AF_UNIX, type, 0), ret;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (sk < 0)
		return -1;
	ret = connect(sk, (struct sockaddr *)&a, sizeof(a));
	close(sk);
	return ret ? -errno : 0;
}

static int mode_ok(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;

	if (lstat(path, &st))
		return pr_perror("lstat %s", path);
	if (!S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != mode || st.st_uid != uid || st.st_gid != gid) {
		pr_err("%s: mode %o owner %d:%d, expected a socket %o %d:%d\n", path, st.st_mode, (int)st.st_uid,
		       (int)st.st_gid, mode, (int)uid, (int)gid);
		return -1;
	}
	return 0;
}

static int check(void)
{
	struct stat a, b;

	if (mode_ok("orphan", 0640, 4321, 8765) || mode_ok("linked", 0755, 0, 0) || stat("linked", &a) ||
	    stat("second", &b) || a.st_ino != b.st_ino || a.st_nlink != 2 || mode_ok("live", 0755, 0, 0))
		return -1;
	if (connect_to("orphan", SOCK_STREAM) != -ECONNREFUSED || connect_to("linked", SOCK_DGRAM) != -ECONNREFUSED) {
		pr_err("an orphaned socket file takes connections\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int o, l, live, c;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || mount("zdtm_mnt_sockfile00", dirname, "tmpfs", 0, NULL) || chdir(dirname)) {
		pr_perror("mount %s", dirname);
		return 1;
	}
	umask(022);
	o = bound("orphan", SOCK_STREAM);
	l = bound("linked", SOCK_DGRAM);
	live = bound("live", SOCK_STREAM);
	if (o < 0 || l < 0 || live < 0 || listen(live, 2) || chmod("orphan", 0640) || chown("orphan", 4321, 8765) ||
	    link("linked", "second") || close(o) || close(l)) {
		pr_perror("prepare the socket files");
		return 1;
	}
	if (check())
		return 1;

	test_daemon();
	test_waitsig();

	if (check()) {
		fail("the orphaned socket files after C/R");
		return 1;
	}
	if (connect_to("live", SOCK_STREAM) || (c = accept(live, NULL, NULL)) < 0) {
		fail("the bound socket after C/R");
		return 1;
	}
	pass();
	return 0;
}
