#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Just waits for SIGTERM; then checks that its ids, session, credentials and cwd are unchanged";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	pid_t pid, sid, pgid;
	uid_t uid, euid;
	gid_t gid, egid;
	char cwd[4096], cwd_now[4096];

	test_init(argc, argv);

	pid = getpid();
	sid = getsid(0);
	pgid = getpgid(0);
	uid = getuid();
	euid = geteuid();
	gid = getgid();
	egid = getegid();
	if (!getcwd(cwd, sizeof(cwd))) {
		pr_perror("getcwd");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (getpid() != pid || getsid(0) != sid || getpgid(0) != pgid) {
		fail("pid/sid/pgid %d/%d/%d became %d/%d/%d", pid, sid, pgid, getpid(), getsid(0), getpgid(0));
		return 1;
	}
	if (sid != pid) {
		fail("the test is no longer a session leader (sid %d, pid %d)", sid, pid);
		return 1;
	}
	if (getuid() != uid || geteuid() != euid || getgid() != gid || getegid() != egid) {
		fail("credentials changed: uid %d/%d gid %d/%d", getuid(), geteuid(), getgid(), getegid());
		return 1;
	}
	if (!getcwd(cwd_now, sizeof(cwd_now)) || strcmp(cwd, cwd_now)) {
		fail("cwd changed: %s -> %s", cwd, cwd_now);
		return 1;
	}

	pass();
	return 0;
}
