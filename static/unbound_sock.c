#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "zdtmtst.h"

const char *test_doc = "TCP and UDP sockets of both families created and never bound: after C/R they have no port, "
		       "no peer, their type and protocol, and can still be bound and connected";
const char *test_author = "Stasis developers";

struct sk {
	int family, type, fd;
};

static struct sk sks[] = {
	{ AF_INET, SOCK_STREAM }, { AF_INET, SOCK_DGRAM }, { AF_INET6, SOCK_STREAM }, { AF_INET6, SOCK_DGRAM },
};

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned i;
	int v, srv, port = 8771;

	test_init(argc, argv);

	for (i = 0; i < ARRAY_SIZE(sks); i++) {
		sks[i].fd = socket(sks[i].family, sks[i].type, 0);
		if (sks[i].fd < 0) {
			pr_perror("socket");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(sks); i++) {
		len = sizeof(v);
		if (getsockopt(sks[i].fd, SOL_SOCKET, SO_TYPE, &v, &len) || v != sks[i].type) {
			fail("socket %u: type %d", i, v);
			return 1;
		}
		len = sizeof(v);
		if (getsockopt(sks[i].fd, SOL_SOCKET, SO_DOMAIN, &v, &len) || v != sks[i].family) {
			fail("socket %u: family %d", i, v);
			return 1;
		}
		if (port_of(sks[i].fd) != 0) {
			fail("socket %u: bound to port %d after C/R", i, port_of(sks[i].fd));
			return 1;
		}
		len = sizeof(ss);
		errno = 0;
		if (getpeername(sks[i].fd, (struct sockaddr *)&ss, &len) != -1 || errno != ENOTCONN) {
			fail("socket %u: has a peer after C/R", i);
			return 1;
		}
	}
	/* the IPv4 TCP one still connects */
	srv = tcp_init_server(AF_INET, &port);
	if (srv < 0 || tcp_init_client_with_fd(sks[0].fd, AF_INET, "127.0.0.1", port) < 0 || tcp_accept_server(srv) < 0) {
		fail("the unbound TCP socket does not connect after C/R");
		return 1;
	}
	pass();
	return 0;
}
