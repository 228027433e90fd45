#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "vmflags.h"

const char *test_doc = "A child that creates and joins threads in a loop, stopped by SIGSTOP at a moment when one of "
		       "its threads has every signal blocked (inside pthread_create, around the clone): after C/R "
		       "each thread's blocked set is the same, and after SIGCONT the loop goes on";
const char *test_author = "Stasis developers";

#define ALL_BLOCKED 0xfffffffffffbfeffULL /* all but SIGKILL and SIGSTOP */

static pid_t child;
static volatile unsigned long *rounds;

static void kill_child(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
}

static void *nothing(void *arg)
{
	return arg;
}

static unsigned long long blocked_of(int tid)
{
	char path[96], line[256];
	unsigned long long m = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", child, tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "SigBlk:", 7))
			m = strtoull(line + 7, NULL, 16);
	fclose(f);
	return m;
}

/* how many of the child's threads have every signal blocked; their masks into masks[] (up to 8) */
static int all_blocked(unsigned long long *masks, int *nr)
{
	char path[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	*nr = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", child);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		unsigned long long m;

		if (de->d_name[0] == '.')
			continue;
		m = blocked_of(atoi(de->d_name));
		if (*nr < 8)
			masks[(*nr)++] = m;
		if (m == ALL_BLOCKED)
			n++;
	}
	closedir(d);
	return n;
}

/* 1 if every thread of the child is in its stop (a thread cloned as the stop began is 'R' until it first runs) */
static int all_stopped(void)
{
	char path[96], buf[512], *p;
	struct dirent *de;
	int ok = 1, fd;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", child);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", child, atoi(de->d_name));
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] != 'T')
			ok = 0;
	}
	closedir(d);
	return ok;
}

static int wait_state(int want_stopped)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (want_stopped ? pid_state(child) == 'T' && all_stopped() : pid_state(child) != 'T')
			return 0;
		usleep(1000);
	}
	return -1;
}

int main(int argc, char **argv)
{
	unsigned long long masks[8], after[8];
	unsigned long before;
	int tries, nr, nr2, i;

	test_init(argc, argv);

	rounds = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rounds == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	child = fork();
	if (child < 0) {
		pr_perror("fork");
		return 1;
	}
	if (child == 0) {
		pthread_t th;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		while (1) {
			if (pthread_create(&th, NULL, nothing, NULL) || pthread_join(th, NULL))
				_exit(1);
			(*rounds)++;
		}
	}
	for (tries = 0; tries < 20000; tries++) {
		usleep(tries % 7 * 50);
		if (kill(child, SIGSTOP) || wait_state(1)) {
			pr_err("the child did not stop\n");
			kill_child();
			return 1;
		}
		if (all_blocked(masks, &nr))
			break;
		kill(child, SIGCONT);
		if (wait_state(0)) {
			pr_err("the child did not continue\n");
			kill_child();
			return 1;
		}
	}
	if (tries == 20000) {
		pr_err("never caught a thread with every signal blocked\n");
		kill_child();
		return 1;
	}
	test_msg("caught after %d tries, %d threads\n", tries, nr);

	test_daemon();
	test_waitsig();

	if (pid_state(child) != 'T') {
		fail("the child is in state %c, expected T", pid_state(child));
		kill_child();
		return 1;
	}
	all_blocked(after, &nr2);
	if (nr2 != nr) {
		fail("the child has %d threads, it had %d", nr2, nr);
		kill_child();
		return 1;
	}
	for (i = 0; i < nr; i++)
		if (after[i] != masks[i]) {
			fail("thread %d: SigBlk %llx, it was %llx", i, after[i], masks[i]);
			kill_child();
			return 1;
		}
	before = *rounds;
	kill(child, SIGCONT);
	for (i = 0; i < 500 && *rounds < before + 100; i++)
		usleep(10000);
	if (*rounds < before + 100) {
		fail("the thread loop did not go on after SIGCONT (%lu rounds, %lu before)", *rounds, before);
		kill_child();
		return 1;
	}
	kill_child();
	pass();
	return 0;
}
