/* Helpers for the epoll programs: the tfd lines of an epoll fd's fdinfo, waits with a check of the result */
#ifndef ZDTM_STATIC_EPOLL_COMMON_H
#define ZDTM_STATIC_EPOLL_COMMON_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "zdtmtst.h"

#define TFD_TEXT 4096

static inline int tfd_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every "tfd:" line of /proc/self/fdinfo/@epfd up to its "ino:" (a restored pipe has a new inode; the
 * harness compares the targets' inodes by label), sorted (the kernel orders them by file address),
 * concatenated in @buf.
 */
static inline int epoll_tfds(int epfd, char *buf, size_t len)
{
	static char lines[64][256];
	char path[64], line[512], *sorted[64];
	int n = 0, i;
	size_t used = 0;
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *ino = strstr(line, " ino:");

		if (strncmp(line, "tfd:", 4))
			continue;
		if (ino)
			strcpy(ino, "\n");
		if (n == 64 || strlen(line) >= sizeof(lines[0])) {
			fclose(f);
			return -1;
		}
		strcpy(lines[n], line);
		sorted[n] = lines[n];
		n++;
	}
	fclose(f);
	qsort(sorted, n, sizeof(sorted[0]), tfd_cmp);
	for (i = 0; i < n; i++) {
		if (used + strlen(sorted[i]) + 1 > len)
			return -1;
		strcpy(buf + used, sorted[i]);
		used += strlen(sorted[i]);
	}
	return 0;
}

/* The number of tfd lines of @epfd, or -1. */
static inline int epoll_count(int epfd)
{
	char buf[TFD_TEXT], *p;
	int n = 0;

	if (epoll_tfds(epfd, buf, sizeof(buf)))
		return -1;
	for (p = buf; (p = strstr(p, "tfd:")); p++)
		n++;
	return n;
}

/*
 * epoll_wait(@epfd, timeout 0) must report exactly @n events; with @n == 1 also @events and @data.
 * 0 if so, else a failure is printed (with @what) and 1 returned.
 */
static inline int expect_wait(int epfd, int n, uint32_t events, uint64_t data, const char *what)
{
	struct epoll_event ev[8];
	int got;

	memset(ev, 0, sizeof(ev));
	got = epoll_wait(epfd, ev, 8, 0);
	if (got != n) {
		fail("%s: epoll_wait gave %d events, expected %d (first: events %#x data %#llx)", what, got, n,
		     got > 0 ? ev[0].events : 0, got > 0 ? (unsigned long long)ev[0].data.u64 : 0ULL);
		return 1;
	}
	if (n == 1 && (ev[0].events != events || ev[0].data.u64 != data)) {
		fail("%s: epoll_wait gave events %#x data %#llx, expected %#x %#llx", what, ev[0].events,
		     (unsigned long long)ev[0].data.u64, events, (unsigned long long)data);
		return 1;
	}
	return 0;
}

/* The tfd lines of @epfd must be @before exactly. */
static inline int same_tfds(int epfd, const char *before, const char *what)
{
	char now[TFD_TEXT];

	if (epoll_tfds(epfd, now, sizeof(now))) {
		fail("%s: cannot read the fdinfo of fd %d", what, epfd);
		return 1;
	}
	if (strcmp(now, before)) {
		errno = 0;
		fail("%s: the registrations of fd %d changed:\nbefore:\n%safter:\n%s", what, epfd, before, now);
		return 1;
	}
	return 0;
}

static inline int ep_add(int epfd, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
		pr_perror("epoll_ctl(ADD, %d, %#x)", fd, events);
		return -1;
	}
	return 0;
}

#endif
