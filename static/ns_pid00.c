#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Pids inside the test's own pid namespace: the test, a child and a grandchild keep "
		       "their pids and parents over C/R, NSpid in /proc/self/status has one level, /proc lists "
		       "exactly the namespace's 4 processes, and signals and wait by those pids work after C/R";
const char *test_author = "Stasis developers";

static pid_t read_ppid(pid_t pid)
{
	char path[64], line[256];
	pid_t ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %d", &ppid) == 1)
			break;
	fclose(f);
	return ppid;
}

static int nspid_levels(void)
{
	char line[256], *p;
	int n = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "NSpid:", 6))
			for (p = strtok(line + 6, " \t\n"); p; p = strtok(NULL, " \t\n"))
				n++;
	fclose(f);
	return n;
}

static int count_procs(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (atoi(de->d_name) > 0)
			n++;
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	pid_t me, child, grand = 0, ppid;
	int p[2], status;

	test_init(argc, argv);

	if (pipe(p)) {
		pr_perror("pipe");
		return 1;
	}
	child = fork();
	if (child == 0) {
		grand = fork();
		if (grand == 0) {
			pause();
			_exit(0);
		}
		if (write(p[1], &grand, sizeof(grand)) != sizeof(grand))
			_exit(1);
		if (waitpid(grand, &status, 0) != grand)
			_exit(2);
		_exit(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1 ? 0 : 3);
	}
	if (child < 0 || read(p[0], &grand, sizeof(grand)) != sizeof(grand)) {
		pr_perror("fork");
		return 1;
	}

	test_daemon();
	/* the launcher exits now: then the test is the namespace init's child */
	for (status = 0; getppid() != 1 && status < 5000; status++)
		usleep(1000);
	me = getpid();
	ppid = getppid();
	test_waitsig();

	if (getpid() != me || getppid() != ppid) {
		errno = 0;
		fail("pid %d ppid %d after C/R, were %d %d", getpid(), getppid(), me, ppid);
		return 1;
	}
	if (nspid_levels() != 1) {
		errno = 0;
		fail("NSpid has %d levels after C/R", nspid_levels());
		return 1;
	}
	if (read_ppid(child) != me || read_ppid(grand) != child) {
		errno = 0;
		fail("parents after C/R: %d's is %d, %d's is %d", child, read_ppid(child), grand, read_ppid(grand));
		return 1;
	}
	/* the namespace's init, the test, its child and grandchild: nobody else */
	if (count_procs() != 4) {
		errno = 0;
		fail("/proc lists %d processes after C/R, not the 4 of the namespace", count_procs());
		return 1;
	}
	if (kill(grand, SIGUSR1) || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fail("signal and wait by pid after C/R (status %#x)", status);
		return 1;
	}
	pass();
	return 0;
}
