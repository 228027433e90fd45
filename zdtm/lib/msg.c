/* Timestamped log lines and the outfile redirection. */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/time.h>
#include <time.h>

#include "zdtmtst.h"

int zdtm_seccomp;

int test_log_init(const char *outfile, const char *suffix)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s%s", outfile, suffix);
	/* O_EXCL: a leftover from an earlier run must not be appended to. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0644);
	if (fd < 0) {
		pr_perror("Can't open file %s", path);
		return -1;
	}
	if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
		pr_perror("Can't redirect stdout/stderr to %s", path);
		close(fd);
		return -1;
	}
	if (fd > STDERR_FILENO)
		close(fd);

	/* Unbuffered, so nothing is lost or duplicated across fork, exit or C/R. */
	setbuf(stdout, NULL);
	setbuf(stderr, NULL);
	return 0;
}

void test_msg(const char *format, ...)
{
	char buf[TEST_MSG_BUFFER_SIZE];
	int saved_errno = errno;
	size_t off = 0;
	struct timeval tv;
	struct tm tm;
	va_list args;
	int n;

	if (!zdtm_seccomp) {
		gettimeofday(&tv, NULL);
		if (localtime_r(&tv.tv_sec, &tm))
			off += strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
		off += snprintf(buf + off, sizeof(buf) - off, ".%03ld: %5d: ", (long)(tv.tv_usec / 1000),
				(int)getpid());
	}

	va_start(args, format);
	n = vsnprintf(buf + off, sizeof(buf) - off, format, args);
	va_end(args);
	if (n > 0)
		off += n;
	if (off >= sizeof(buf))
		off = sizeof(buf) - 1;

	/* One write(2): lines from several processes sharing the O_APPEND file don't interleave. */
	if (write(STDERR_FILENO, buf, off) < 0)
		; /* nowhere left to report it */
	errno = saved_errno;
}
