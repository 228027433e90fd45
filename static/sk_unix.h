/* Helpers for the sk_unix programs: patterned data, exact sends and checks of what arrives */
#ifndef ZDTM_STATIC_SK_UNIX_H
#define ZDTM_STATIC_SK_UNIX_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

static inline uint8_t sk_pat(int stream, long off)
{
	return (uint8_t)(stream * 53 + off * 7 + (off >> 8));
}

static inline void sk_fill(uint8_t *buf, int stream, long off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = sk_pat(stream, off + i);
}

/* Send exactly @len bytes of stream @stream at offset @off (one message for dgram/seqpacket) */
static inline int sk_send(int fd, int stream, long off, size_t len)
{
	static uint8_t buf[1 << 20];
	size_t done = 0;

	if (len > sizeof(buf))
		return -1;
	sk_fill(buf, stream, off, len);
	while (done < len) {
		ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* One message of exactly @len bytes of @stream at @off must come next (MSG_TRUNC: a bigger one fails) */
static inline int sk_recv_msg(int fd, int stream, long off, size_t len, int flags)
{
	static uint8_t buf[1 << 20], want[1 << 20];
	ssize_t n = recv(fd, buf, sizeof(buf), flags | MSG_TRUNC);

	if (n < 0) {
		pr_perror("recv of a %zu-byte message", len);
		return -1;
	}
	if ((size_t)n != len) {
		pr_err("message of %zd bytes, expected %zu\n", n, len);
		return -1;
	}
	sk_fill(want, stream, off, len);
	if (memcmp(buf, want, len)) {
		pr_err("message of %zu bytes: wrong content\n", len);
		return -1;
	}
	return 0;
}

/* Exactly @len bytes of stream @stream at @off, read in pieces of any size */
static inline int sk_recv_stream(int fd, int stream, long off, size_t len)
{
	static uint8_t buf[65536];
	size_t done = 0;

	while (done < len) {
		size_t chunk = len - done < sizeof(buf) ? len - done : sizeof(buf);
		ssize_t n = recv(fd, buf, chunk, 0), i;

		if (n <= 0) {
			pr_err("stream %d: %s after %zu of %zu bytes\n", stream, n ? strerror(errno) : "EOF", done,
			       len);
			return -1;
		}
		for (i = 0; i < n; i++)
			if (buf[i] != sk_pat(stream, off + done + i)) {
				pr_err("stream %d: byte %zu differs\n", stream, done + i);
				return -1;
			}
		done += n;
	}
	return 0;
}

/* Nothing more to read now (EAGAIN without blocking) */
static inline int sk_empty(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	if (n < 0 && errno == EAGAIN)
		return 0;
	pr_err("fd %d: %zd (%s) where the queue should be empty\n", fd, n, n < 0 ? strerror(errno) : "data/EOF");
	return -1;
}

/* A sockaddr_un for a path or (leading '@') an abstract name; returns its length */
static inline socklen_t sk_addr(struct sockaddr_un *a, const char *name)
{
	size_t len = strlen(name);

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, name, len);
	if (name[0] == '@') {
		a->sun_path[0] = 0;
		return offsetof(struct sockaddr_un, sun_path) + len;
	}
	return offsetof(struct sockaddr_un, sun_path) + len + 1;
}

static inline int sk_bind(int fd, const char *name)
{
	struct sockaddr_un a;
	socklen_t len = sk_addr(&a, name);

	return bind(fd, (struct sockaddr *)&a, len);
}

static inline int sk_connect(int fd, const char *name)
{
	struct sockaddr_un a;
	socklen_t len = sk_addr(&a, name);

	return connect(fd, (struct sockaddr *)&a, len);
}

/* The name got from getsockname (peer = 0) or getpeername must be @name ("" for none) */
static inline int sk_check_name(int fd, int peer, const char *name)
{
	struct sockaddr_un a, want;
	socklen_t len = sizeof(a), wlen;
	int ret;

	memset(&a, 0, sizeof(a));
	ret = peer ? getpeername(fd, (struct sockaddr *)&a, &len) : getsockname(fd, (struct sockaddr *)&a, &len);
	if (ret) {
		pr_perror("fd %d: get%sname", fd, peer ? "peer" : "sock");
		return -1;
	}
	if (!name[0]) {
		if (len != offsetof(struct sockaddr_un, sun_path)) {
			pr_err("fd %d: %s name of length %u, expected none\n", fd, peer ? "peer" : "own", len);
			return -1;
		}
		return 0;
	}
	wlen = sk_addr(&want, name);
	if (len != wlen || memcmp(&a, &want, len)) {
		pr_err("fd %d: %s name is \"%s%s\" (length %u), expected \"%s\"\n", fd, peer ? "peer" : "own",
		       a.sun_path[0] ? "" : "@", a.sun_path[0] ? a.sun_path : a.sun_path + 1, len, name);
		return -1;
	}
	return 0;
}

/* SO_PEERCRED's pid */
static inline pid_t sk_peer_pid(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len))
		return -1;
	return uc.pid;
}

static inline int sk_type(int fd)
{
	int t = -1;
	socklen_t len = sizeof(t);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len))
		return -1;
	return t;
}

#endif
