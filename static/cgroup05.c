#include <pthread.h>
#include <sys/syscall.h>

#include "zdtmtst.h"
#include "cgroup_util.h"
#include "lock.h"

const char *test_doc = "A thread in a cgroup v1 pids group of its own (written to its tasks file), the process "
		       "where it was: the engine keeps one cgroup set per process and must refuse the dump, leaving "
		       "the thread where it is";
const char *test_author = "Stasis developers";

static char mnt[PATH_MAX], rel[PATH_MAX], dir[PATH_MAX], orig[PATH_MAX], back[PATH_MAX * 2];
static futex_t moved, done;
static int thread_tid, thread_err;

static void *thread_fn(void *arg)
{
	char id[16];

	thread_tid = syscall(SYS_gettid);
	snprintf(id, sizeof(id), "%d", thread_tid);
	if (cg_write(dir, "tasks", id))
		thread_err = errno ? errno : -1;
	futex_set_and_wake(&moved, 1);
	futex_wait_while_eq(&done, 0);
	cg_write(back, "tasks", id);
	return NULL;
}

int main(int argc, char **argv)
{
	char file[64], now[PATH_MAX];
	pthread_t t;
	int ret = 1;

	test_init(argc, argv);

	if (cg_path("pids", orig, sizeof(orig)) ||
	    cg_make("pids", "cgroup05", "cgroups.cleanup", mnt, rel, dir, PATH_MAX)) {
		skip("no cgroup v1 pids hierarchy (a pure cgroup v2 host)");
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}
	snprintf(back, sizeof(back), "%.4000s%.4000s", mnt, orig);
	if (pthread_create(&t, NULL, thread_fn, NULL)) {
		pr_err("pthread_create\n");
		rmdir(dir);
		return 1;
	}
	futex_wait_until(&moved, 1);
	snprintf(file, sizeof(file), "/proc/self/task/%d/cgroup", thread_tid);
	if (thread_err || cg_path_of(file, "pids", now, sizeof(now)) || strcmp(now, rel)) {
		pr_err("the thread is in '%s', not in %s (errno %d)\n", now, rel, thread_err);
		goto out;
	}
	if (cg_path("pids", now, sizeof(now)) || strcmp(now, orig)) {
		pr_err("the process moved too: '%s'\n", now);
		goto out;
	}

	test_daemon();
	test_waitsig();

	if (cg_path_of(file, "pids", now, sizeof(now)) || strcmp(now, rel)) {
		fail("the thread is in '%s', expected %s", now, rel);
		goto out;
	}
	ret = 0;
out:
	futex_set_and_wake(&done, 1);
	pthread_join(t, NULL);
	if (rmdir(dir))
		pr_perror("rmdir %s", dir);
	if (!ret)
		pass();
	return ret;
}
