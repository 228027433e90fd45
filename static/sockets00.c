#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "zdtmtst.h"

const char *test_doc = "A unix stream listener bound to a file (its socket file stays), a connected client and the "
		       "accepted end with data queued both ways: after C/R the names are the same, the socket "
		       "file is the listener's, the data is there and a new client connects";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

int main(int argc, char **argv)
{
	struct sockaddr_un addr, got;
	int srv, cli, acc, cli2, acc2;
	socklen_t len;
	struct stat st;
	char buf[32];

	test_init(argc, argv);

	if (unix_fill_sock_name(&addr, filename) < 0) {
		pr_err("the socket name is too long\n");
		return 1;
	}
	srv = socket(AF_UNIX, SOCK_STREAM, 0);
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	if (srv < 0 || cli < 0 || bind(srv, (struct sockaddr *)&addr, sizeof(addr)) || listen(srv, 4) ||
	    connect(cli, (struct sockaddr *)&addr, sizeof(addr))) {
		pr_perror("bind/listen/connect");
		return 1;
	}
	acc = accept(srv, NULL, NULL);
	if (acc < 0 || write(cli, "to server", 9) != 9 || write(acc, "to client", 9) != 9) {
		pr_perror("accept/write");
		return 1;
	}

	test_daemon();
	test_waitsig();

	len = sizeof(got);
	memset(&got, 0, sizeof(got));
	if (getsockname(srv, (struct sockaddr *)&got, &len) || strcmp(got.sun_path, addr.sun_path)) {
		fail("the listener's name is '%s', was '%s'", got.sun_path, addr.sun_path);
		return 1;
	}
	len = sizeof(got);
	memset(&got, 0, sizeof(got));
	if (getpeername(cli, (struct sockaddr *)&got, &len) || strcmp(got.sun_path, addr.sun_path)) {
		fail("the client's peer is '%s'", got.sun_path);
		return 1;
	}
	if (stat(filename, &st) || !S_ISSOCK(st.st_mode)) {
		fail("%s is not a socket file after C/R", filename);
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (read(acc, buf, 9) != 9 || strcmp(buf, "to server") || read(cli, buf, 9) != 9 || strcmp(buf, "to client")) {
		fail("the queued data: '%s'", buf);
		return 1;
	}
	cli2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (cli2 < 0 || connect(cli2, (struct sockaddr *)&addr, sizeof(addr)) || (acc2 = accept(srv, NULL, NULL)) < 0 ||
	    write(cli2, "x", 1) != 1 || read(acc2, buf, 1) != 1) {
		fail("a new connection to %s after C/R", filename);
		return 1;
	}
	pass();
	return 0;
}
