#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "A thread in a threaded cgroup v2 of its own, the process in the parent: the engine cannot keep "
		       "threaded cgroups and must refuse the dump, leaving the test running with the thread where it "
		       "was";
const char *test_author = "Stasis developers";

static char mnt[256], orig[512], dom[1024], thr[1100];
static futex_t moved, done;
static int thread_tid, thread_err;

static int find_cgroup2(void)
{
	char line[1024], mp[256], *sep;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep, " - cgroup2 ", 11))
			continue;
		if (sscanf(line, "%*d %*d %*s %*s %255s", mp) == 1) {
			snprintf(mnt, sizeof(mnt), "%s", mp);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

/* The v2 ("0::") path of a cgroup file */
static int cg_of(const char *file, char *buf, size_t len)
{
	char line[1024];
	FILE *f;
	int ret = -1;

	f = fopen(file, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line + 3);
			ret = 0;
		}
	fclose(f);
	return ret;
}

static int write_file(const char *cg, const char *name, const char *what)
{
	char path[1400];
	int fd, n;

	snprintf(path, sizeof(path), "%s%s/%s", mnt, cg, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = write(fd, what, strlen(what));
	close(fd);
	return n == (int)strlen(what) ? 0 : -1;
}

static int write_id(const char *cg, const char *name, int id)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", id);
	return write_file(cg, name, buf);
}

static void *thread_fn(void *arg)
{
	thread_tid = syscall(SYS_gettid);
	if (write_id(thr, "cgroup.threads", thread_tid))
		thread_err = errno ? errno : -1;
	futex_set_and_wake(&moved, 1);
	futex_wait_while_eq(&done, 0);
	/* back into the domain, so that the threaded cgroup can go */
	write_id(dom, "cgroup.threads", thread_tid);
	return NULL;
}

static void cleanup(void)
{
	char path[1400];

	write_id(orig, "cgroup.procs", getpid());
	snprintf(path, sizeof(path), "%s%s", mnt, thr);
	if (rmdir(path))
		pr_perror("rmdir %s", path);
	snprintf(path, sizeof(path), "%s%s", mnt, dom);
	if (rmdir(path))
		pr_perror("rmdir %s", path);
}

int main(int argc, char **argv)
{
	char path[1400], now[1024], file[64];
	struct timespec ts;
	pthread_t t;
	int ret = 1;

	test_init(argc, argv);

	if (find_cgroup2() || cg_of("/proc/self/cgroup", orig, sizeof(orig))) {
		skip("no cgroup v2 mount");
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(dom, sizeof(dom), "%s%szdtm-cgroup01-%d-%lx%lx", orig, strcmp(orig, "/") ? "/" : "", getpid(),
		 (long)ts.tv_sec, ts.tv_nsec);
	snprintf(thr, sizeof(thr), "%s/threads", dom);
	snprintf(path, sizeof(path), "%s%s", mnt, dom);
	if (mkdir(path, 0755)) {
		pr_perror("mkdir %s", path);
		return 1;
	}
	snprintf(path, sizeof(path), "%s%s", mnt, thr);
	if (mkdir(path, 0755)) {
		pr_perror("mkdir %s", path);
		snprintf(path, sizeof(path), "%s%s", mnt, dom);
		rmdir(path);
		return 1;
	}
	if (write_file(thr, "cgroup.type", "threaded") || write_id(dom, "cgroup.procs", getpid())) {
		pr_perror("make %s threaded and move into %s", thr, dom);
		cleanup();
		return 1;
	}
	if (pthread_create(&t, NULL, thread_fn, NULL)) {
		pr_err("pthread_create\n");
		cleanup();
		return 1;
	}
	futex_wait_until(&moved, 1);
	snprintf(file, sizeof(file), "/proc/self/task/%d/cgroup", thread_tid);
	if (thread_err || cg_of(file, now, sizeof(now)) || strcmp(now, thr)) {
		pr_err("the thread is in '%s', not in %s (errno %d)\n", now, thr, thread_err);
		goto out;
	}
	test_msg("process in %s, thread %d in %s\n", dom, thread_tid, thr);

	test_daemon();
	test_waitsig();

	if (cg_of(file, now, sizeof(now)) || strcmp(now, thr)) {
		fail("the thread is in '%s', expected %s", now, thr);
		goto out;
	}
	if (cg_of("/proc/self/cgroup", now, sizeof(now)) || strcmp(now, dom)) {
		fail("the process is in '%s', expected %s", now, dom);
		goto out;
	}
	ret = 0;
out:
	futex_set_and_wake(&done, 1);
	pthread_join(t, NULL);
	cleanup();
	if (!ret)
		pass();
	return ret;
}
