/* What the sk_tcp* / sk_inet* programs share: addresses, pairs of connected sockets, patterned streams */
#ifndef SK_INET_H
#define SK_INET_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

#include "zdtmtst.h"

union sk_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr_storage ss;
};

static inline socklen_t sk_alen(int family)
{
	return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static inline int sk_addr_set(union sk_addr *a, int family, const char *host, int port)
{
	memset(a, 0, sizeof(*a));
	a->sa.sa_family = family;
	if (family == AF_INET) {
		a->v4.sin_port = htons(port);
		return inet_pton(AF_INET, host, &a->v4.sin_addr) == 1 ? 0 : -1;
	}
	a->v6.sin6_port = htons(port);
	return inet_pton(AF_INET6, host, &a->v6.sin6_addr) == 1 ? 0 : -1;
}

static inline int sk_port(const union sk_addr *a)
{
	return ntohs(a->sa.sa_family == AF_INET ? a->v4.sin_port : a->v6.sin6_port);
}

static inline int sk_name(int fd, union sk_addr *a, int peer)
{
	socklen_t len = sizeof(*a);

	memset(a, 0, sizeof(*a));
	return peer ? getpeername(fd, &a->sa, &len) : getsockname(fd, &a->sa, &len);
}

/* the socket's name (or peer's) is still *want; 0 if so */
static inline int sk_same_name(int fd, const union sk_addr *want, int peer)
{
	union sk_addr a;

	if (sk_name(fd, &a, peer))
		return -1;
	return memcmp(&a, want, sk_alen(want->sa.sa_family));
}

static inline int sk_getint(int fd, int level, int opt)
{
	int v = -12345;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, opt, &v, &len))
		return -12345;
	return v;
}

static inline int sk_setint(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v));
}

/* a listener on host (port 0: any), SO_REUSEADDR as asked; returns its fd */
static inline int sk_listener(int family, const char *host, int port, int backlog, int reuse)
{
	union sk_addr a;
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0 || sk_addr_set(&a, family, host, port))
		return -1;
	if (reuse && sk_setint(fd, SOL_SOCKET, SO_REUSEADDR, 1))
		return -1;
	if (bind(fd, &a.sa, sk_alen(family)) || listen(fd, backlog))
		return -1;
	return fd;
}

/* a connected pair on host through a listener of its own, closed once accepted */
static inline int sk_pair_fam(int lfamily, int cfamily, const char *lhost, const char *chost, int *cli, int *srv)
{
	union sk_addr a;
	int l = sk_listener(lfamily, lhost, 0, 1, 0);

	if (l < 0 || sk_name(l, &a, 0))
		return -1;
	{
		int port = sk_port(&a);

		if (sk_addr_set(&a, cfamily, chost, port))
			return -1;
	}
	*cli = socket(cfamily, SOCK_STREAM, 0);
	if (*cli < 0 || connect(*cli, &a.sa, sk_alen(cfamily)))
		return -1;
	*srv = accept(l, NULL, NULL);
	close(l);
	return *srv < 0 ? -1 : 0;
}

static inline int sk_pair(int family, const char *host, int *cli, int *srv)
{
	return sk_pair_fam(family, family, host, host, cli, srv);
}

static inline uint8_t sk_pat(int stream, long off)
{
	return (uint8_t)(stream * 61 + off * 7 + (off >> 11) + (off >> 17));
}

/* write the stream from off until the socket takes no more (non-blocking) or max bytes; returns the
 * number written */
static inline long sk_fill(int fd, int stream, long off, long max)
{
	uint8_t buf[16384];
	long done = 0;

	while (done < max) {
		long i, n = max - done < (long)sizeof(buf) ? max - done : (long)sizeof(buf);
		ssize_t w;

		for (i = 0; i < n; i++)
			buf[i] = sk_pat(stream, off + done + i);
		w = send(fd, buf, n, MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN)
				break;
			return -1;
		}
		done += w;
	}
	return done;
}

/* read exactly len bytes of the stream from off (blocking, with a poll timeout), checked byte by byte;
 * 0 if every byte is right */
static inline int sk_expect(int fd, int stream, long off, long len)
{
	uint8_t buf[16384];
	long got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long i, n = len - got < (long)sizeof(buf) ? len - got : (long)sizeof(buf);
		ssize_t r;

		if (poll(&p, 1, 10000) != 1) {
			pr_err("stream %d: nothing more after %ld of %ld bytes\n", stream, got, len);
			return -1;
		}
		r = recv(fd, buf, n, MSG_DONTWAIT);
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r <= 0) {
			pr_perror("stream %d: recv gave %zd after %ld of %ld bytes", stream, r, got, len);
			return -1;
		}
		for (i = 0; i < r; i++)
			if (buf[i] != sk_pat(stream, off + got + i)) {
				pr_err("stream %d: byte %ld is %#x, expected %#x\n", stream, off + got + i, buf[i],
				       sk_pat(stream, off + got + i));
				return -1;
			}
		got += r;
	}
	return 0;
}

/* nothing more to read right now */
static inline int sk_empty(int fd)
{
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);

	return r < 0 && errno == EAGAIN;
}

/* end of file reached (the peer's FIN) */
static inline int sk_eof(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, 10000) != 1)
		return 0;
	return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

/* a few fresh bytes each way: the connection works after C/R */
static inline int sk_roundtrip(int a, int b, int stream)
{
	if (sk_fill(a, stream, 0, 1000) != 1000 || sk_expect(b, stream, 0, 1000))
		return -1;
	if (sk_fill(b, stream + 1, 0, 1000) != 1000 || sk_expect(a, stream + 1, 0, 1000))
		return -1;
	return 0;
}

static inline int sk_tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	return ti.tcpi_state;
}

static inline int sk_ioctl(int fd, unsigned long req)
{
	int v = -1;

	if (ioctl(fd, req, &v))
		return -1;
	return v;
}

#endif
