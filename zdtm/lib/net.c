/*
 * Socket helpers of the ZDTM protocol: TCP servers and clients on the wildcard address, unix socket names
 * relative to the test's directory. Same names and behaviour as upstream's library, so programs written
 * for it link unchanged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

static socklen_t inet_any(int family, unsigned short port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		a->sin_port = htons(port);
		return sizeof(*a);
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_any;
		a->sin6_port = htons(port);
		return sizeof(*a);
	}
	return 0;
}

int tcp_init_server_with_opts(int family, int *port, struct zdtm_tcp_opts *opts)
{
	struct sockaddr_storage ss;
	int sk, one = 1;

	if (!inet_any(family, *port, &ss)) {
		pr_err("tcp_init_server: family %d is not an inet family\n", family);
		return -1;
	}
	sk = socket(family, SOCK_STREAM | opts->flags, IPPROTO_TCP);
	if (sk < 0) {
		pr_perror("socket");
		return -1;
	}
	if (opts->reuseport && setsockopt(sk, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) {
		pr_perror("SO_REUSEPORT");
		goto err;
	}
	if (opts->reuseaddr && setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) {
		pr_perror("SO_REUSEADDR");
		goto err;
	}
	/* the next free port from *port on: tests pick a number, parallel runs may hold it */
	for (;;) {
		socklen_t len = inet_any(family, *port, &ss);

		if (bind(sk, (struct sockaddr *)&ss, len) == 0)
			break;
		if (errno != EADDRINUSE || *port >= 65535) {
			pr_perror("bind to port %d", *port);
			goto err;
		}
		test_msg("port %d is in use, trying the next\n", *port);
		(*port)++;
	}
	if (listen(sk, 1)) {
		pr_perror("listen");
		goto err;
	}
	return sk;
err:
	close(sk);
	return -1;
}

int tcp_init_server(int family, int *port)
{
	struct zdtm_tcp_opts opts = { .reuseaddr = true };

	return tcp_init_server_with_opts(family, port, &opts);
}

int tcp_accept_server(int sock)
{
	int sk = accept(sock, NULL, NULL);

	if (sk < 0)
		pr_perror("accept");
	return sk;
}

int tcp_init_client_with_fd(int sock, int family, char *servIP, unsigned short servPort)
{
	struct sockaddr_storage ss;
	socklen_t len = inet_any(family, servPort, &ss);
	void *where = family == AF_INET ? (void *)&((struct sockaddr_in *)&ss)->sin_addr :
					  (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;

	if (!len || inet_pton(family, servIP, where) != 1) {
		pr_err("tcp_init_client: bad address %s for family %d\n", servIP, family);
		return -1;
	}
	if (connect(sock, (struct sockaddr *)&ss, len)) {
		pr_perror("connect to %s:%d", servIP, servPort);
		return -1;
	}
	return sock;
}

int tcp_init_client(int family, char *servIP, unsigned short servPort)
{
	int sk = socket(family, SOCK_STREAM, IPPROTO_TCP);

	if (sk < 0) {
		pr_perror("socket");
		return -1;
	}
	if (tcp_init_client_with_fd(sk, family, servIP, servPort) < 0) {
		close(sk);
		return -1;
	}
	return sk;
}

int unix_fill_sock_name(struct sockaddr_un *name, char *relFilename)
{
	char *cwd;
	int n;

	if (get_cwd_check_perm(&cwd))
		return -1;
	name->sun_family = AF_UNIX;
	n = snprintf(name->sun_path, sizeof(name->sun_path), "%s/%s", cwd, relFilename);
	if (n < 0 || (size_t)n >= sizeof(name->sun_path)) {
		pr_err("unix socket name %s/%s is too long\n", cwd, relFilename);
		free(cwd);
		return -1;
	}
	free(cwd);
	return 0;
}
