#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "A thread with its own fd table (unshare(CLONE_FILES)): a pipe only it has, and an fd the main "
		       "thread closed after the split. After C/R the tables must be as before";
const char *test_author = "Stasis developers";

static futex_t ready, go, done;
static pid_t thread_tid;
static int thread_pipe[2] = { -1, -1 }, shared_fd = -1;
static int thread_verdict; /* 1 pass, 2 fail */
static char thread_why[256];

static int valid(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Check from inside the thread: its fds are valid and the pipe works */
static int thread_check(void)
{
	char c = 0;

	if (!valid(thread_pipe[0]) || !valid(thread_pipe[1]) || !valid(shared_fd)) {
		snprintf(thread_why, sizeof(thread_why), "fds %d/%d/%d valid %d/%d/%d in the thread", thread_pipe[0],
			 thread_pipe[1], shared_fd, valid(thread_pipe[0]), valid(thread_pipe[1]), valid(shared_fd));
		return 1;
	}
	if (write(thread_pipe[1], "t", 1) != 1 || read(thread_pipe[0], &c, 1) != 1 || c != 't') {
		snprintf(thread_why, sizeof(thread_why), "the thread's pipe does not work: %m");
		return 1;
	}
	return 0;
}

static void *thread_fn(void *arg)
{
	thread_tid = syscall(SYS_gettid);
	if (unshare(CLONE_FILES) || pipe(thread_pipe)) {
		snprintf(thread_why, sizeof(thread_why), "unshare(CLONE_FILES)/pipe: %m");
		thread_verdict = 2;
	}
	futex_inc_and_wake(&ready);
	futex_wait_while_eq(&go, 0);
	if (thread_verdict != 2)
		thread_verdict = thread_check() ? 2 : 1;
	futex_inc_and_wake(&done);
	futex_wait_while_eq(&go, 1);
	close(thread_pipe[0]);
	close(thread_pipe[1]);
	close(shared_fd);
	return NULL;
}

/* The fd numbers in /proc/self/task/@tid/fd as a sorted-by-readdir string */
static int fd_list(pid_t tid, char *buf, size_t len)
{
	char path[64];
	struct dirent *de;
	int fds[256], n = 0, i, j;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/self/task/%d/fd", tid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < 256) {
		/* the main thread opens the directory: its fd is in the leader's table only */
		if (de->d_name[0] == '.' || (tid == getpid() && atoi(de->d_name) == dirfd(d)))
			continue;
		fds[n++] = atoi(de->d_name);
	}
	closedir(d);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (fds[j] < fds[i]) {
				int t = fds[i];
				fds[i] = fds[j];
				fds[j] = t;
			}
	buf[0] = 0;
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%d ", fds[i]);
	return 0;
}

int main(int argc, char **argv)
{
	char main_before[1024], thr_before[1024], main_after[1024], thr_after[1024];
	pid_t leader;
	pthread_t th;
	int ret = 1;

	test_init(argc, argv);
	leader = getpid();

	shared_fd = open("/proc/self/stat", O_RDONLY);
	if (shared_fd < 0) {
		pr_perror("open");
		return 1;
	}
	if (pthread_create(&th, NULL, thread_fn, NULL)) {
		pr_err("pthread_create\n");
		return 1;
	}
	futex_wait_until(&ready, 1);
	if (thread_verdict == 2) {
		pr_err("%s\n", thread_why);
		goto out;
	}
	/* After the split: only the thread keeps shared_fd */
	close(shared_fd);
	if (valid(thread_pipe[0]) || valid(thread_pipe[1]) || valid(shared_fd)) {
		pr_err("the thread's fds are valid in the main thread before C/R\n");
		goto out;
	}
	if (fd_list(leader, main_before, sizeof(main_before)) || fd_list(thread_tid, thr_before, sizeof(thr_before))) {
		pr_perror("fd lists");
		goto out;
	}
	test_msg("fds: main '%s', thread '%s'\n", main_before, thr_before);

	test_daemon();
	test_waitsig();

	if (valid(thread_pipe[0]) || valid(thread_pipe[1]) || valid(shared_fd)) {
		fail("fds %d/%d/%d of the thread are valid in the main thread (%d/%d/%d): the tables were merged",
		     thread_pipe[0], thread_pipe[1], shared_fd, valid(thread_pipe[0]), valid(thread_pipe[1]),
		     valid(shared_fd));
		goto out;
	}
	if (fd_list(leader, main_after, sizeof(main_after)) || fd_list(thread_tid, thr_after, sizeof(thr_after))) {
		fail("fd lists");
		goto out;
	}
	if (strcmp(main_before, main_after) || strcmp(thr_before, thr_after)) {
		fail("fd tables were main '%s' thread '%s', now main '%s' thread '%s'", main_before, thr_before,
		     main_after, thr_after);
		goto out;
	}
	futex_set_and_wake(&go, 1);
	futex_wait_until(&done, 1);
	if (thread_verdict != 1) {
		fail("thread %d: %s", thread_tid, thread_why);
		goto out;
	}
	ret = 0;
out:
	futex_set_and_wake(&go, 2);
	pthread_join(th, NULL);
	if (!ret)
		pass();
	return ret;
}
