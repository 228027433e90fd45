#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A child chrooted into the test's directory (root: desc flag suid) holding a file of it "
		       "open (--filename inside --dirname): after C/R its root is still that directory ('/..' is "
		       "'/'), its cwd is '/', the file is at its path there and the fd is of it";
const char *test_author = "Stasis developers";

char *dirname;
TEST_OPTION(dirname, string, "directory to chroot into", 1);
char *filename;
TEST_OPTION(filename, string, "file name inside the root", 1);

static int child(int ready, int go)
{
	struct stat root, up, a, b;
	char path[4096], cwd[64], buf[16];
	int fd;
	char c;

	if (chroot(dirname) || chdir("/"))
		return 2;
	snprintf(path, sizeof(path), "/%s", filename);
	fd = open(path, O_RDWR);
	if (fd < 0 || write(ready, "r", 1) != 1)
		return 3;
	if (read(go, &c, 1) < 0)
		return 4;
	if (stat("/", &root) || stat("/..", &up) || root.st_ino != up.st_ino || root.st_dev != up.st_dev)
		return 5; /* not chrooted any more */
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/"))
		return 6;
	if (stat(path, &a) || fstat(fd, &b) || a.st_ino != b.st_ino)
		return 7;
	memset(buf, 0, sizeof(buf));
	if (pread(fd, buf, sizeof(buf), 0) != 6 || strcmp(buf, "inside"))
		return 8;
	return 0;
}

int main(int argc, char **argv)
{
	int go[2], ready[2], status, fd;
	char path[8192], c;
	pid_t pid;

	test_init(argc, argv);

	snprintf(path, sizeof(path), "%s/%s", dirname, filename);
	if (mkdir(dirname, 0755) || (fd = open(path, O_CREAT | O_WRONLY, 0644)) < 0 || write(fd, "inside", 6) != 6 ||
	    close(fd) || pipe(go) || pipe(ready)) {
		pr_perror("setup");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(go[1]);
		close(ready[0]);
		_exit(child(ready[1], go[0]));
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child could not chroot (the desc's suid flag runs the test as root)\n");
		waitpid(pid, &status, 0);
		return 1;
	}

	test_daemon();
	test_waitsig();

	close(go[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the chrooted child: %#x (5 root, 6 cwd, 7 file, 8 data)", status);
		return 1;
	}
	pass();
	return 0;
}
