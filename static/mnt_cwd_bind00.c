#include <sys/wait.h>

#include "mnt_util.h"

const char *test_doc = "Working directories inside bind mounts: the test's cwd in a bind of a subdirectory of "
		       "its tmpfs, a child's cwd in a read-only bind of another subdirectory, and a directory fd "
		       "on a third bind: after C/R getcwd() names the bind paths, \".\" is the source directory "
		       "(inode) seen through the bind's mount, relative paths work there (a file made by the test "
		       "appears in the source; the child's cwd is still read-only), and openat() works on the fd";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

static char top[PATH_MAX];

static int cwd_is(const char *bind, const char *src)
{
	char now[PATH_MAX], want[PATH_MAX], s[PATH_MAX];
	long long m1, m2;

	ssprintf(want, "%s/%s", top, bind);
	ssprintf(s, "%s/%s", top, src);
	if (!getcwd(now, sizeof(now)) || strcmp(now, want)) {
		pr_err("cwd %s, expected %s\n", now, want);
		return -1;
	}
	m1 = mu_mnt_id(".");
	m2 = mu_mnt_id(want);
	if (mu_same(".", s) || m1 < 0 || m1 != m2 || m1 == mu_mnt_id(s)) {
		pr_err("cwd is not %s through %s (mounts %lld %lld)\n", src, bind, m1, m2);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int ctl[2], res[2], dfd, status;
	char c = 0;
	pid_t pid;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || !getcwd(top, sizeof(top)) || mkdir("t", 0755) ||
	    mkdir("b1", 0755) || mkdir("b2", 0755) || mkdir("b3", 0755) ||
	    mount("zdtm_mnt_cwd_bind00", "t", "tmpfs", 0, NULL) || mkdir("t/s1", 0755) || mkdir("t/s2", 0755) ||
	    mkdir("t/s3", 0755) || mu_put("t/s3/f", "three", 0644) || mu_put("t/s2/f", "two", 0644) ||
	    mount("t/s1", "b1", NULL, MS_BIND, NULL) || mount("t/s2", "b2", NULL, MS_BIND, NULL) ||
	    mount(NULL, "b2", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) ||
	    mount("t/s3", "b3", NULL, MS_BIND, NULL) || pipe(ctl) || pipe(res)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		int ok;

		if (chdir("b2") || cwd_is("b2", "t/s2"))
			_exit(1);
		if (read(ctl[0], &c, 1) != 1)
			_exit(2);
		ok = !cwd_is("b2", "t/s2") && !mu_get("f", "two") && open("new", O_CREAT | O_WRONLY, 0644) < 0 &&
		     errno == EROFS;
		c = ok ? 'y' : 'n';
		if (write(res[1], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	dfd = open("b3", O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || chdir("b1") || cwd_is("b1", "t/s1"))
		return 1;

	test_daemon();
	test_waitsig();

	if (cwd_is("b1", "t/s1") || mu_put("made", "made", 0644) || chdir(top) || mu_get("t/s1/made", "made")) {
		fail("the cwd in the bind after C/R");
		return 1;
	}
	{
		char buf[8];
		int fd = openat(dfd, "f", O_RDONLY);

		if (fd < 0 || read(fd, buf, 5) != 5 || memcmp(buf, "three", 5)) {
			fail("openat() on the directory fd of the bind after C/R");
			return 1;
		}
		close(fd);
	}
	if (write(ctl[1], &c, 1) != 1 || read(res[0], &c, 1) != 1 || c != 'y' || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child's cwd in the read-only bind after C/R (%c)", c);
		return 1;
	}
	pass();
	return 0;
}
