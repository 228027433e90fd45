#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A NETLINK_ROUTE socket with the kernel's answer to a request not read yet: the kernel's "
		       "messages cannot be queued again as the kernel's, so the dump is refused and the tree goes "
		       "on; the answer is still there";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = { .h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			 .nlmsg_seq = 9 } };
	char buf[65536];
	struct pollfd p;
	int fd, n;

	test_init(argc, argv);

	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0)
		return pr_perror("socket");
	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		return pr_perror("send");
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, 5000) != 1)
		return pr_err("no answer\n");

	test_daemon();
	test_waitsig();

	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < (int)sizeof(struct nlmsghdr) || ((struct nlmsghdr *)buf)->nlmsg_seq != 9) {
		fail("the queued answer");
		return 1;
	}
	pass();
	return 0;
}
