#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ofd_lock_util.h"

int ofd_lock(int fd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, F_OFD_SETLK, &fl);
}

int ofd_probe(const char *path, off_t start, off_t len, struct flock *fl)
{
	int fd = open(path, O_RDWR), ret;

	if (fd < 0)
		return -1;
	memset(fl, 0, sizeof(*fl));
	fl->l_type = F_WRLCK;
	fl->l_whence = SEEK_SET;
	fl->l_start = start;
	fl->l_len = len;
	ret = fcntl(fd, F_OFD_GETLK, fl);
	close(fd);
	return ret;
}

int ofd_in_proc_locks(int fd, const char *type, off_t start, off_t end)
{
	char line[512], kind[32], mode[32], rw[32], e[32];
	unsigned int maj, min;
	unsigned long ino;
	long long s;
	struct stat st;
	int found = 0, pid;
	FILE *f;

	if (fstat(fd, &st))
		return 0;
	f = fopen("/proc/locks", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		/* "1: OFDLCK ADVISORY  WRITE -1 00:2b:1234 0 99" */
		if (sscanf(line, "%*d: %31s %31s %31s %d %x:%x:%lu %lld %31s", kind, mode, rw, &pid, &maj, &min, &ino, &s,
			   e) != 9)
			continue;
		if (strcmp(kind, "OFDLCK") || strcmp(rw, type) || ino != st.st_ino || makedev(maj, min) != st.st_dev)
			continue;
		if (s == start && (end < 0 ? !strcmp(e, "EOF") : atoll(e) == end))
			found = 1;
	}
	fclose(f);
	return found;
}
