#include <fcntl.h>

#include "zdtmtst.h"

const char *test_doc = "Setting the audit login uid gives the test a new audit session id (/proc/self/sessionid): "
		       "after C/R both loginuid and sessionid are the ones the test had";
const char *test_author = "Stasis developers";

#define LOGINUID 31338

static long long read_ll(const char *path)
{
	char buf[32];

	if (read_value(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

int main(int argc, char **argv)
{
	long long sess0, sess1, sess2, luid, now_sess, now_luid;
	char val[32];

	test_init(argc, argv);

	sess0 = read_ll("/proc/self/sessionid");
	ssprintf(val, "%d", LOGINUID);
	if (write_value("/proc/self/loginuid", val))
		return 1;
	sess1 = read_ll("/proc/self/sessionid");
	/* twice: the session id is one only this test got */
	if (write_value("/proc/self/loginuid", val))
		return 1;
	sess2 = read_ll("/proc/self/sessionid");
	luid = read_ll("/proc/self/loginuid");
	if (luid != LOGINUID || sess1 < 0 || sess2 < 0 || sess1 == sess0 || sess2 == sess1 ||
	    sess2 == 4294967295LL) {
		pr_err("setting loginuid: loginuid %lld, sessionid %lld -> %lld -> %lld\n", luid, sess0, sess1, sess2);
		return 1;
	}
	test_msg("loginuid %lld, sessionid %lld\n", luid, sess2);

	test_daemon();
	test_waitsig();

	now_luid = read_ll("/proc/self/loginuid");
	now_sess = read_ll("/proc/self/sessionid");
	if (now_luid != luid || now_sess != sess2) {
		errno = 0;
		fail("after C/R: loginuid %lld, sessionid %lld; expected %lld, %lld", now_luid, now_sess, luid, sess2);
		return 1;
	}
	pass();
	return 0;
}
