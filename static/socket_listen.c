#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtmtst.h"

/* Built as socket_listen (IPv4), socket_listen6 (-DZDTM_IPV6), socket_listen4v6 (-DZDTM_IPV4V6: a
 * dual-stack IPv6 listener that an IPv4 client connects to) */
#if defined(ZDTM_IPV4V6)
#define SRV_FAMILY AF_INET6
#define CLI_FAMILY AF_INET
#define CLI_ADDR "127.0.0.1"
#elif defined(ZDTM_IPV6)
#define SRV_FAMILY AF_INET6
#define CLI_FAMILY AF_INET6
#define CLI_ADDR "::1"
#else
#define SRV_FAMILY AF_INET
#define CLI_FAMILY AF_INET
#define CLI_ADDR "127.0.0.1"
#endif

const char *test_doc = "A TCP listener (IPv4, IPv6 or dual-stack, by build) that nobody connected to before C/R: "
		       "after it, it keeps its port and SO_ACCEPTCONN, and a child's connection is accepted and "
		       "carries data both ways within a deadline (CLOCK_MONOTONIC)";
const char *test_author = "Stasis developers";

static int port_of(int sk)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(sk, (struct sockaddr *)&ss, &len))
		return -1;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
					       ((struct sockaddr_in6 *)&ss)->sin6_port);
}

int main(int argc, char **argv)
{
	int srv, acc, port = 8890, v, status;
	struct timespec t0, t1;
	socklen_t len;
	char buf[16];
	pid_t pid;

	test_init(argc, argv);

	srv = tcp_init_server(SRV_FAMILY, &port);
	if (srv < 0)
		return 1;

	test_daemon();
	test_waitsig();

	if (port_of(srv) != port) {
		fail("the listener's port is %d, was %d", port_of(srv), port);
		return 1;
	}
	len = sizeof(v);
	if (getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) || !v) {
		fail("the socket does not listen after C/R");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0) {
		int sk = tcp_init_client(CLI_FAMILY, CLI_ADDR, port);

		if (sk < 0 || write(sk, "hello", 5) != 5 || read_data(sk, (unsigned char *)buf, 3) || memcmp(buf, "bye", 3))
			_exit(1);
		_exit(0);
	}
	acc = tcp_accept_server(srv);
	if (acc < 0 || read_data(acc, (unsigned char *)buf, 5) || memcmp(buf, "hello", 5) || write(acc, "bye", 3) != 3) {
		fail("the connection after C/R");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the client failed: %#x", status);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (t1.tv_sec - t0.tv_sec > 5) {
		fail("the connection took %ld s", (long)(t1.tv_sec - t0.tv_sec));
		return 1;
	}
	pass();
	return 0;
}
