#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "NETLINK_ROUTE sockets: one auto-bound by its first request (its port id is the pid), one "
		       "bound to a chosen port id in groups below and above 32 (NETLINK_LIST_MEMBERSHIPS), one "
		       "unbound SOCK_DGRAM one; NETLINK_USERSOCK sockets: one bound, one connected to it; names, groups and options "
		       "(NETLINK_EXT_ACK, NETLINK_NO_ENOBUFS, NETLINK_GET_STRICT_CHK) are kept, and the kernel still "
		       "answers a link dump after C/R";
const char *test_author = "Stasis developers";

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static const int groups[] = { RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_ROUTE, 33, 35 };
#define NR_GROUPS (int)(sizeof(groups) / sizeof(groups[0]))

static int names(int fd, struct sockaddr_nl *me, struct sockaddr_nl *peer)
{
	socklen_t l = sizeof(*me);

	if (getsockname(fd, (struct sockaddr *)me, &l))
		return -1;
	l = sizeof(*peer);
	return getpeername(fd, (struct sockaddr *)peer, &l);
}

/* a link dump: returns the number of RTM_NEWLINK messages, or -1 */
static int link_dump(int fd)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = { .h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			 .nlmsg_seq = 7 } };
	static char buf[65536];
	struct sockaddr_nl kern = { .nl_family = AF_NETLINK };
	int links = 0;

	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kern, sizeof(kern)) != sizeof(req))
		return pr_perror("send RTM_GETLINK"), -1;
	while (1) {
		int n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n <= 0)
			return pr_perror("recv"), -1;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != 7)
				return pr_err("answer with seq %u\n", h->nlmsg_seq), -1;
			if (h->nlmsg_type == NLMSG_DONE)
				return links;
			if (h->nlmsg_type == NLMSG_ERROR)
				return pr_err("NLMSG_ERROR\n"), -1;
			if (h->nlmsg_type == RTM_NEWLINK)
				links++;
		}
	}
}

static int get_int(int fd, int opt)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_NETLINK, opt, &v, &l))
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl me, peer, want = { .nl_family = AF_NETLINK, .nl_pid = 0x7a5a5 };
	unsigned int mship[4], got[4];
	socklen_t l;
	int autob, bound, unb, ubound, conn, i, one = 1, links;
	struct sockaddr_nl uwant = { .nl_family = AF_NETLINK, .nl_pid = 0x5a7a7 };

	test_init(argc, argv);

	autob = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	bound = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	unb = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
	ubound = socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
	conn = socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
	if (autob < 0 || bound < 0 || unb < 0 || ubound < 0 || conn < 0)
		return pr_perror("socket");
	links = link_dump(autob);
	if (links <= 0)
		return 1;
	if (bind(bound, (struct sockaddr *)&want, sizeof(want)))
		return pr_perror("bind");
	memset(mship, 0, sizeof(mship));
	for (i = 0; i < NR_GROUPS; i++) {
		if (setsockopt(bound, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i], sizeof(int)))
			return pr_perror("NETLINK_ADD_MEMBERSHIP %d", groups[i]);
		mship[(groups[i] - 1) / 32] |= 1u << ((groups[i] - 1) % 32);
	}
	if (setsockopt(bound, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(bound, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)) ||
	    setsockopt(autob, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one)))
		return pr_perror("setsockopt");
	if (bind(ubound, (struct sockaddr *)&uwant, sizeof(uwant)))
		return pr_perror("bind usersock");
	if (connect(conn, (struct sockaddr *)&uwant, sizeof(uwant)))
		return pr_perror("connect");

	test_daemon();
	test_waitsig();

	if (names(autob, &me, &peer) || me.nl_pid != (unsigned)getpid() || peer.nl_pid || me.nl_groups) {
		fail("auto-bound socket: port id %u (pid %d), peer %u", me.nl_pid, getpid(), peer.nl_pid);
		return 1;
	}
	if (names(bound, &me, &peer) || me.nl_pid != want.nl_pid || me.nl_groups != mship[0] || peer.nl_pid) {
		fail("bound socket: port id %x groups %x (expected %x %x)", me.nl_pid, me.nl_groups, want.nl_pid, mship[0]);
		return 1;
	}
	memset(got, 0, sizeof(got));
	l = sizeof(got);
	if (getsockopt(bound, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, got, &l) || memcmp(got, mship, sizeof(got))) {
		fail("memberships %x %x, expected %x %x", got[0], got[1], mship[0], mship[1]);
		return 1;
	}
	if (get_int(bound, NETLINK_EXT_ACK) != 1 || get_int(bound, NETLINK_NO_ENOBUFS) != 1 ||
	    get_int(autob, NETLINK_GET_STRICT_CHK) != 1 || get_int(autob, NETLINK_EXT_ACK) != 0 ||
	    get_int(bound, NETLINK_PKTINFO) != 0) {
		fail("options not kept");
		return 1;
	}
	{
		int t = -1;

		l = sizeof(t);
		if (getsockopt(unb, SOL_SOCKET, SO_TYPE, &t, &l) || t != SOCK_DGRAM) {
			fail("the SOCK_DGRAM socket has type %d", t);
			return 1;
		}
	}
	if (names(unb, &me, &peer) || me.nl_pid || peer.nl_pid) {
		fail("unbound socket: port id %u", me.nl_pid);
		return 1;
	}
	if (names(conn, &me, &peer) || peer.nl_pid != uwant.nl_pid || !me.nl_pid) {
		fail("connected socket: peer %x, port id %x", peer.nl_pid, me.nl_pid);
		return 1;
	}
	/* the kernel still answers, on every socket */
	if (link_dump(autob) != links || link_dump(unb) != links) {
		fail("link dump after C/R");
		return 1;
	}
	/* the connected socket reaches the bound one */
	if (send(conn, "hello", 5, 0) != 5) {
		fail("send to the bound socket");
		return 1;
	}
	{
		char buf[16];
		struct sockaddr_nl from;

		l = sizeof(from);
		if (recvfrom(ubound, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &l) != 5 ||
		    memcmp(buf, "hello", 5)) {
			fail("recv on the bound socket");
			return 1;
		}
		if (names(conn, &me, &peer) || from.nl_pid != me.nl_pid) {
			fail("from port id %u, expected %u", from.nl_pid, me.nl_pid);
			return 1;
		}
	}
	pass();
	return 0;
}
