#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A NETLINK_KOBJECT_UEVENT socket bound to group 1 (the uevents) with NETLINK_PKTINFO, a "
		       "NETLINK_GENERIC socket that resolved a family before C/R and still resolves it after "
		       "(CTRL_CMD_GETFAMILY of nlctrl), a NETLINK_ROUTE socket bound with nl_groups RTMGRP_LINK";
const char *test_author = "Stasis developers";

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#include <linux/genetlink.h>

static int getfamily(int fd, unsigned seq)
{
	struct {
		struct nlmsghdr h;
		struct genlmsghdr g;
		struct nlattr a;
		char name[8];
	} req = { .h = { .nlmsg_len = sizeof(req), .nlmsg_type = GENL_ID_CTRL, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = seq },
		  .g = { .cmd = CTRL_CMD_GETFAMILY, .version = 1 },
		  .a = { .nla_len = NLA_HDRLEN + 7, .nla_type = CTRL_ATTR_FAMILY_NAME },
		  .name = "nlctrl" };
	char buf[8192];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	int n;

	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		return pr_perror("send GETFAMILY"), -1;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < (int)sizeof(*h) || h->nlmsg_seq != seq || h->nlmsg_type != GENL_ID_CTRL)
		return pr_err("GETFAMILY answer: %d bytes type %d\n", n, n > 0 ? h->nlmsg_type : -1), -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl ue = { .nl_family = AF_NETLINK, .nl_groups = 1 }, rt = { .nl_family = AF_NETLINK,
										.nl_groups = RTMGRP_LINK }, a;
	int u, g, r, one = 1, v;
	socklen_t l;

	test_init(argc, argv);

	u = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT);
	g = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	r = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (u < 0 || g < 0 || r < 0)
		return pr_perror("socket");
	if (bind(u, (struct sockaddr *)&ue, sizeof(ue)) || bind(r, (struct sockaddr *)&rt, sizeof(rt)))
		return pr_perror("bind");
	if (setsockopt(u, SOL_NETLINK, NETLINK_PKTINFO, &one, sizeof(one)))
		return pr_perror("NETLINK_PKTINFO");
	if (getfamily(g, 1))
		return 1;

	test_daemon();
	test_waitsig();

	l = sizeof(a);
	if (getsockname(u, (struct sockaddr *)&a, &l) || a.nl_groups != 1 || a.nl_pid != (unsigned)getpid()) {
		fail("uevent socket: groups %x port id %u", a.nl_groups, a.nl_pid);
		return 1;
	}
	l = sizeof(v);
	if (getsockopt(u, SOL_NETLINK, NETLINK_PKTINFO, &v, &l) || v != 1) {
		fail("NETLINK_PKTINFO %d", v);
		return 1;
	}
	l = sizeof(a);
	if (getsockname(r, (struct sockaddr *)&a, &l) || a.nl_groups != RTMGRP_LINK) {
		fail("route socket: groups %x", a.nl_groups);
		return 1;
	}
	if (getfamily(g, 2)) {
		fail("generic netlink after C/R");
		return 1;
	}
	pass();
	return 0;
}
