#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "zdtmtst.h"

#ifdef ZDTM_UDP6
#define FAMILY AF_INET6
const char *test_doc = "UDP over IPv6 (::1): a bound receiver with datagrams queued from a connected sender and an "
		       "unconnected one; after C/R each comes back with its sender's address, and both senders "
		       "still send";
#else
#define FAMILY AF_INET
const char *test_doc = "UDP over IPv4 (127.0.0.1): a bound receiver with datagrams queued from a connected sender and "
		       "an unconnected one; after C/R each comes back with its sender's address, and both senders "
		       "still send";
#endif
const char *test_author = "Stasis developers";

static socklen_t loopback(struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (FAMILY == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		return sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a);
	}
}

static int bound(struct sockaddr_storage *ss, socklen_t *len)
{
	int sk = socket(FAMILY, SOCK_DGRAM, 0);

	*len = loopback(ss);
	if (sk < 0 || bind(sk, (struct sockaddr *)ss, *len) || getsockname(sk, (struct sockaddr *)ss, len)) {
		pr_perror("udp socket");
		return -1;
	}
	return sk;
}

static int recv_from(int sk, const char *want, struct sockaddr_storage *from, socklen_t flen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char buf[64];
	int n;

	memset(buf, 0, sizeof(buf));
	n = recvfrom(sk, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &len);
	if (n != (int)strlen(want) || strcmp(buf, want)) {
		fail("received '%s' (%d), expected '%s'", buf, n, want);
		return 1;
	}
	if (len != flen || memcmp(&ss, from, flen)) {
		fail("'%s' comes from another address than its sender's", want);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ra, ca, ua;
	socklen_t rl, cl, ul;
	int rsk, csk, usk;

	test_init(argc, argv);

	rsk = bound(&ra, &rl);
	csk = bound(&ca, &cl);
	usk = bound(&ua, &ul);
	if (rsk < 0 || csk < 0 || usk < 0)
		return 1;
	if (connect(csk, (struct sockaddr *)&ra, rl)) {
		pr_perror("connect");
		return 1;
	}
	if (send(csk, "connected-1", 11, 0) != 11 || sendto(usk, "unconnected", 11, 0, (struct sockaddr *)&ra, rl) != 11 ||
	    send(csk, "connected-2", 11, 0) != 11) {
		pr_perror("send");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (recv_from(rsk, "connected-1", &ca, cl) || recv_from(rsk, "unconnected", &ua, ul) ||
	    recv_from(rsk, "connected-2", &ca, cl))
		return 1;
	if (send(csk, "after-c", 7, 0) != 7 || sendto(usk, "after-u", 7, 0, (struct sockaddr *)&ra, rl) != 7) {
		fail("send after C/R");
		return 1;
	}
	usleep(10000);
	if (recv_from(rsk, "after-c", &ca, cl) || recv_from(rsk, "after-u", &ua, ul))
		return 1;
	pass();
	return 0;
}
