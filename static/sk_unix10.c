#include <sys/stat.h>

#include "sk_unix.h"

const char *test_doc = "Unix sockets bound to relative names in a subdirectory (\"dir/name\", with the process's "
		       "cwd elsewhere later), also through a symlinked directory (relative and absolute), with their "
		       "files' modes set by umask and chmod: after C/R the "
		       "names are still relative, the files have their modes and owners, and clients connect "
		       "through the relative paths";
const char *test_author = "Stasis developers";

char *dirname;
TEST_OPTION(dirname, string, "directory", 1);

int main(int argc, char **argv)
{
	char n1[256], n2[256], n3[256], n4[512], real[256], link[256], cwd[256];
	int s1, s2, s3, s4, c, a;
	struct stat st1, st2, now;
	mode_t old;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) && errno != EEXIST) {
		pr_perror("mkdir");
		return 1;
	}
	snprintf(n1, sizeof(n1), "%s/stream", dirname);
	snprintf(n2, sizeof(n2), "%s/dgram", dirname);
	unlink(n1);
	unlink(n2);
	s1 = socket(AF_UNIX, SOCK_STREAM, 0);
	s2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	old = umask(027);
	if (s1 < 0 || s2 < 0 || sk_bind(s1, n1) || listen(s1, 2)) {
		pr_perror("bind 1");
		return 1;
	}
	umask(0);
	if (sk_bind(s2, n2) || chmod(n2, 0604)) {
		pr_perror("bind 2");
		return 1;
	}
	umask(old);
	/* through a symlinked directory: relative, and absolute */
	snprintf(real, sizeof(real), "%s/real", dirname);
	snprintf(link, sizeof(link), "%s/link", dirname);
	snprintf(n3, sizeof(n3), "%s/link/rel", dirname);
	if (!getcwd(cwd, sizeof(cwd))) {
		pr_perror("getcwd");
		return 1;
	}
	snprintf(n4, sizeof(n4), "%s/%s/link/abs", cwd, dirname);
	unlink(n3);
	unlink(n4);
	unlink(link);
	if ((mkdir(real, 0755) && errno != EEXIST) || symlink("real", link)) {
		pr_perror("symlinked dir");
		return 1;
	}
	s3 = socket(AF_UNIX, SOCK_DGRAM, 0);
	s4 = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (s3 < 0 || s4 < 0 || sk_bind(s3, n3) || (strlen(n4) < 100 && sk_bind(s4, n4))) {
		pr_perror("bind through the symlink");
		return 1;
	}
	if (stat(n1, &st1) || stat(n2, &st2)) {
		pr_perror("stat");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (sk_check_name(s1, 0, n1) || sk_check_name(s2, 0, n2)) {
		fail("names after C/R");
		return 1;
	}
	if (stat(n1, &now) || now.st_mode != st1.st_mode || now.st_uid != st1.st_uid || now.st_gid != st1.st_gid) {
		fail("%s after C/R: mode %o uid %d, expected %o %d", n1, now.st_mode, now.st_uid, st1.st_mode,
		     st1.st_uid);
		return 1;
	}
	if (stat(n2, &now) || now.st_mode != st2.st_mode || now.st_uid != st2.st_uid || now.st_gid != st2.st_gid) {
		fail("%s after C/R: mode %o, expected %o", n2, now.st_mode, st2.st_mode);
		return 1;
	}
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || sk_connect(c, n1) || (a = accept(s1, NULL, NULL)) < 0 || sk_send(c, 1, 0, 3) ||
	    sk_recv_stream(a, 1, 0, 3)) {
		fail("the listener does not work through its relative name");
		return 1;
	}
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (c < 0 || sk_connect(c, n2) || sk_send(c, 2, 0, 3) || sk_recv_msg(s2, 2, 0, 3, 0)) {
		fail("the receiver does not work through its relative name");
		return 1;
	}
	if (sk_check_name(s3, 0, n3) || (strlen(n4) < 100 && sk_check_name(s4, 0, n4))) {
		fail("names through the symlinked directory after C/R");
		return 1;
	}
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (c < 0 || sk_connect(c, n3) || sk_send(c, 3, 0, 3) || sk_recv_msg(s3, 3, 0, 3, 0)) {
		fail("the receiver bound through the symlink does not work");
		return 1;
	}
	/* the name stays relative even from another cwd */
	if (chdir("/") || sk_check_name(s1, 0, n1)) {
		fail("name after chdir");
		return 1;
	}
	pass();
	return 0;
}
