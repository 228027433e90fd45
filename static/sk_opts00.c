#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Socket-level options of a UDP, a netlink and a packet socket read back after C/R: buffer "
		       "sizes (also above the sysctl caps, with SO_*BUFFORCE) and SO_BUF_LOCK, timeouts, SO_MARK, "
		       "SO_PRIORITY, SO_RCVLOWAT, SO_LINGER (on and 0 s), SO_KEEPALIVE, SO_DONTROUTE, SO_BINDTODEVICE, "
		       "SO_TIMESTAMP, SO_TIMESTAMPNS, SO_RXQ_OVFL, SO_SELECT_ERR_QUEUE, SO_INCOMING_CPU, SO_BUSY_POLL, "
		       "SO_PASSCRED, SO_NO_CHECK; and a timestamp still comes with a datagram";
const char *test_author = "Stasis developers";

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

struct opt {
	int fd, name, value;
	const char *what;
};

static int fds[3];

static const struct opt opts[] = {
	{ 0, SO_SNDBUFFORCE, 3 << 20, "SO_SNDBUFFORCE" }, /* read back doubled: checked apart */
	{ 0, SO_RCVBUFFORCE, 5 << 20, "SO_RCVBUFFORCE" },
	{ 0, SO_BUF_LOCK, 3, "SO_BUF_LOCK" },
	{ 0, SO_MARK, 0x5a, "SO_MARK" },
	{ 0, SO_PRIORITY, 4, "SO_PRIORITY" },
	{ 0, SO_RCVLOWAT, 7, "SO_RCVLOWAT" },
	{ 0, SO_KEEPALIVE, 1, "SO_KEEPALIVE" },
	{ 0, SO_DONTROUTE, 1, "SO_DONTROUTE" },
	{ 0, SO_TIMESTAMP, 1, "SO_TIMESTAMP" },
	{ 0, SO_RXQ_OVFL, 1, "SO_RXQ_OVFL" },
	{ 0, SO_SELECT_ERR_QUEUE, 1, "SO_SELECT_ERR_QUEUE" },
	{ 0, SO_INCOMING_CPU, 1, "SO_INCOMING_CPU" },
	{ 0, SO_BUSY_POLL, 50, "SO_BUSY_POLL" },
	{ 0, SO_NO_CHECK, 1, "SO_NO_CHECK" },
	{ 1, SO_PASSCRED, 1, "SO_PASSCRED" },
	{ 1, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS" },
	{ 1, SO_RCVBUF, 65536, "SO_RCVBUF" },
	{ 2, SO_PRIORITY, 6, "SO_PRIORITY" },
};
#define NR_OPTS (int)(sizeof(opts) / sizeof(opts[0]))

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, a;
	struct timeval tv = { 2, 200000 }, tv2 = { 0, 770000 }, t, snd, rcv; /* kept in jiffies: compared as read */
	struct linger lg = { 1, 0 }, lg2 = { 1, 9 }, g;
	char dev[IFNAMSIZ];
	socklen_t l;
	int i, v, u2;

	test_init(argc, argv);

	fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
	fds[1] = socket(AF_NETLINK, SOCK_RAW, 0);
	fds[2] = socket(AF_PACKET, SOCK_DGRAM, 0);
	u2 = socket(AF_INET, SOCK_DGRAM, 0);
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0 || u2 < 0)
		return pr_perror("socket");
	for (i = 0; i < NR_OPTS; i++)
		if (setsockopt(fds[opts[i].fd], SOL_SOCKET, opts[i].name, &opts[i].value, sizeof(int)))
			return pr_perror("%s", opts[i].what); /* SO_*BUFFORCE: CAP_NET_ADMIN of the initial user ns */
	if (setsockopt(fds[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &tv2, sizeof(tv2)) ||
	    setsockopt(fds[0], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
	    setsockopt(u2, SOL_SOCKET, SO_LINGER, &lg2, sizeof(lg2)) ||
	    setsockopt(fds[0], SOL_SOCKET, SO_BINDTODEVICE, "lo", 3))
		return pr_perror("setsockopt");
	l = sizeof(snd);
	if (getsockopt(fds[0], SOL_SOCKET, SO_SNDTIMEO, &snd, &l))
		return pr_perror("SO_SNDTIMEO");
	l = sizeof(rcv);
	if (getsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &rcv, &l))
		return pr_perror("SO_RCVTIMEO");
	l = sizeof(a);
	if (bind(fds[0], (struct sockaddr *)&lo, sizeof(lo)) || getsockname(fds[0], (struct sockaddr *)&a, &l))
		return pr_perror("bind");

	test_daemon();
	test_waitsig();

	for (i = 0; i < NR_OPTS; i++) {
		int want = opts[i].value;

		v = -1;
		l = sizeof(v);
		if (getsockopt(fds[opts[i].fd], SOL_SOCKET, opts[i].name == SO_SNDBUFFORCE ? SO_SNDBUF :
							     opts[i].name == SO_RCVBUFFORCE ? SO_RCVBUF : opts[i].name, &v, &l)) {
			fail("getsockopt %s", opts[i].what);
			return 1;
		}
		if (opts[i].name == SO_SNDBUFFORCE || opts[i].name == SO_RCVBUFFORCE || opts[i].name == SO_RCVBUF)
			want *= 2;
		if (opts[i].name == SO_KEEPALIVE || opts[i].name == SO_DONTROUTE || opts[i].name == SO_TIMESTAMP ||
		    opts[i].name == SO_NO_CHECK || opts[i].name == SO_PASSCRED || opts[i].name == SO_TIMESTAMPNS)
			v = !!v;
		if (v != want) {
			fail("%s is %d, expected %d", opts[i].what, v, want);
			return 1;
		}
	}
	l = sizeof(t);
	if (getsockopt(fds[0], SOL_SOCKET, SO_SNDTIMEO, &t, &l) || t.tv_sec != snd.tv_sec || t.tv_usec != snd.tv_usec) {
		fail("SO_SNDTIMEO");
		return 1;
	}
	l = sizeof(t);
	if (getsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &t, &l) || t.tv_sec != rcv.tv_sec || t.tv_usec != rcv.tv_usec) {
		fail("SO_RCVTIMEO");
		return 1;
	}
	l = sizeof(g);
	if (getsockopt(fds[0], SOL_SOCKET, SO_LINGER, &g, &l) || !g.l_onoff || g.l_linger != 0) {
		fail("SO_LINGER on with 0 s: %d %d", g.l_onoff, g.l_linger);
		return 1;
	}
	l = sizeof(g);
	if (getsockopt(u2, SOL_SOCKET, SO_LINGER, &g, &l) || !g.l_onoff || g.l_linger != 9) {
		fail("SO_LINGER 9 s: %d %d", g.l_onoff, g.l_linger);
		return 1;
	}
	l = sizeof(dev);
	memset(dev, 0, sizeof(dev));
	if (getsockopt(fds[0], SOL_SOCKET, SO_BINDTODEVICE, dev, &l) || strcmp(dev, "lo")) {
		fail("SO_BINDTODEVICE '%s'", dev);
		return 1;
	}
	/* SO_TIMESTAMP still gives a timestamp */
	{
		char buf[16], cbuf[256];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		int seen = 0;

		if (sendto(u2, "ts", 2, 0, (struct sockaddr *)&a, sizeof(a)) != 2 || recvmsg(fds[0], &m, 0) != 2) {
			fail("a datagram after C/R");
			return 1;
		}
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMP)
				seen = 1;
		if (!seen) {
			fail("no SO_TIMESTAMP cmsg");
			return 1;
		}
	}
	pass();
	return 0;
}
