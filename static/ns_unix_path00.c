#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "sk_unix.h"

const char *test_doc = "Unix sockets named in mounts only the test's mount namespace has: a stream listener "
		       "bound to an absolute name in the namespace's own /run tmpfs with a connection accepted, a "
		       "datagram receiver bound to a relative name in a tmpfs the test mounts (cwd elsewhere since) "
		       "with a connected sender and a queued datagram, and a receiver whose name there was "
		       "unlinked: after C/R the names are the same, the socket files are in those mounts (and no "
		       "file took the unlinked name), data arrives and new clients connect by the names";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "tmpfs mount point", 1);

#define LST "/run/ns_unix_path00.lst"
#define DGN "dgram"
#define GONE "gone"

static int is_sock_in(const char *path, dev_t dev)
{
	struct stat st;

	if (stat(path, &st)) {
		pr_perror("stat %s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_dev != dev) {
		pr_err("%s: mode %o on device %lx, expected a socket on %lx\n", path, st.st_mode,
		       (unsigned long)st.st_dev, (unsigned long)dev);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int lsk, csk, ask, rsk, ssk, gsk, gs, c2, a2, top;
	char dg[PATH_MAX], gone[PATH_MAX];
	struct stat run, mnt, st;

	test_init(argc, argv);

	top = open(".", O_RDONLY | O_DIRECTORY);
	if (top < 0 || mkdir(dirname, 0755) || mount("zdtm_ns_unix_path00", dirname, "tmpfs", 0, "mode=0755") ||
	    stat("/run", &run) || stat(dirname, &mnt)) {
		pr_perror("prepare %s", dirname);
		return 1;
	}
	ssprintf(dg, "%s/%s", dirname, DGN);
	ssprintf(gone, "%s/%s", dirname, GONE);
	unlink(LST);
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	csk = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lsk < 0 || csk < 0 || sk_bind(lsk, LST) || listen(lsk, 4) || sk_connect(csk, LST)) {
		pr_perror("listener at " LST);
		return 1;
	}
	ask = accept(lsk, NULL, NULL);
	if (ask < 0 || sk_send(csk, 1, 0, 1000)) {
		pr_perror("accept/send");
		return 1;
	}
	rsk = socket(AF_UNIX, SOCK_DGRAM, 0);
	ssk = socket(AF_UNIX, SOCK_DGRAM, 0);
	gsk = socket(AF_UNIX, SOCK_DGRAM, 0);
	gs = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (rsk < 0 || ssk < 0 || gsk < 0 || gs < 0 || chdir(dirname) || sk_bind(rsk, DGN) || sk_bind(gsk, GONE) ||
	    sk_connect(ssk, DGN) || sk_connect(gs, GONE) || sk_send(ssk, 2, 0, 300) || sk_send(gs, 3, 0, 200) ||
	    unlink(GONE) || fchdir(top)) {
		pr_perror("datagram sockets in %s", dirname);
		return 1;
	}
	if (is_sock_in(LST, run.st_dev) || is_sock_in(dg, mnt.st_dev))
		return 1;

	test_daemon();
	test_waitsig();

	/* a tmpfs made again has a device number of its own */
	if (stat("/run", &run) || stat(dirname, &mnt) || is_sock_in(LST, run.st_dev) || is_sock_in(dg, mnt.st_dev)) {
		fail("the socket files after C/R");
		return 1;
	}
	if (stat(gone, &st) == 0 || errno != ENOENT) {
		fail("%s exists after C/R", gone);
		return 1;
	}
	if (sk_check_name(lsk, 0, LST) || sk_check_name(ask, 0, LST) || sk_check_name(csk, 1, LST) ||
	    sk_check_name(rsk, 0, DGN) || sk_check_name(ssk, 1, DGN) || sk_check_name(gsk, 0, GONE) ||
	    sk_check_name(gs, 1, GONE)) {
		fail("names after C/R");
		return 1;
	}
	if (sk_recv_stream(ask, 1, 0, 1000) || sk_empty(ask) || sk_recv_msg(rsk, 2, 0, 300, 0) || sk_empty(rsk) ||
	    sk_recv_msg(gsk, 3, 0, 200, 0) || sk_empty(gsk)) {
		fail("queued data after C/R");
		return 1;
	}
	if (sk_send(ssk, 4, 0, 10) || sk_recv_msg(rsk, 4, 0, 10, 0) || sk_send(gs, 5, 0, 10) ||
	    sk_recv_msg(gsk, 5, 0, 10, 0)) {
		fail("the datagram senders do not reach their receivers after C/R");
		return 1;
	}
	c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c2 < 0 || sk_connect(c2, LST) || (a2 = accept(lsk, NULL, NULL)) < 0 || sk_send(c2, 6, 0, 5) ||
	    sk_recv_stream(a2, 6, 0, 5)) {
		fail("a new client cannot connect to " LST " after C/R");
		return 1;
	}
	c2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (c2 < 0 || sk_connect(c2, dg) || sk_send(c2, 7, 0, 5) || sk_recv_msg(rsk, 7, 0, 5, 0)) {
		fail("a new sender cannot reach %s after C/R", dg);
		return 1;
	}
	unlink(LST);
	pass();
	return 0;
}
