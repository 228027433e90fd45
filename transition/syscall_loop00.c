#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Loops over getpid/getppid/gettid/nanosleep(1ms)/read(/dev/zero), checking every result "
		       "(and that CLOCK_MONOTONIC never goes back)";
const char *test_author = "Stasis developers";

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The parent pid as /proc/self/stat reports it (field 4). */
static pid_t stat_ppid(void)
{
	char buf[512], *p;
	int fd, n, ppid = -1;

	fd = open("/proc/self/stat", O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

int main(int argc, char **argv)
{
	struct timespec ms = { 0, 1000000 };
	unsigned long long iter = 0;
	static uint8_t buf[8192];
	int64_t last, t0, t1;
	pid_t pid;
	int fd;
	size_t i;

	test_init(argc, argv);

	pid = getpid();
	fd = open("/dev/zero", O_RDONLY);
	if (fd < 0) {
		pr_perror("open /dev/zero");
		return 1;
	}
	last = mono_ns();

	test_daemon();

	while (test_go()) {
		pid_t ppid;
		ssize_t ret;
		int r;

		iter++;
		if (getpid() != pid || syscall(SYS_getpid) != pid || syscall(SYS_gettid) != pid) {
			fail("getpid %d / raw %ld / gettid %ld, expected %d", getpid(), syscall(SYS_getpid),
			     syscall(SYS_gettid), pid);
			return 1;
		}
		ppid = getppid();
		if (ppid < 0 || ppid != syscall(SYS_getppid)) {
			fail("getppid %d", ppid);
			return 1;
		}
		if (iter % 256 == 0 && stat_ppid() != getppid()) {
			fail("getppid %d but /proc/self/stat says %d", getppid(), stat_ppid());
			return 1;
		}

		t0 = mono_ns();
		if (t0 < last) {
			fail("CLOCK_MONOTONIC went back by %lld ns", (long long)(last - t0));
			return 1;
		}
		r = nanosleep(&ms, NULL);
		t1 = mono_ns();
		if (r && errno != EINTR) {
			fail("nanosleep");
			return 1;
		}
		if (!r && t1 - t0 < 1000000) {
			fail("nanosleep(1ms) took %lld ns", (long long)(t1 - t0));
			return 1;
		}
		last = t1;

		memset(buf, 0xa5, sizeof(buf));
		ret = read(fd, buf, sizeof(buf));
		if (ret != sizeof(buf)) {
			if (ret < 0 && errno == EINTR)
				continue;
			fail("read /dev/zero returned %zd", ret);
			return 1;
		}
		for (i = 0; i < sizeof(buf); i++)
			if (buf[i]) {
				fail("/dev/zero gave %#x at %zu", buf[i], i);
				return 1;
			}
	}

	close(fd);
	test_msg("%llu iterations\n", iter);
	if (!iter) {
		fail("no iteration done");
		return 1;
	}
	pass();
	return 0;
}
