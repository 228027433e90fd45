#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "A named session keyring with a \"user\" key in it: the dump is refused (keys cannot be "
		       "checkpointed; only an empty session keyring is made again) and the test keeps its keyring "
		       "and key";
const char *test_author = "Stasis developers";

#define PAYLOAD "a secret that must not be lost"

static long keyctl(int cmd, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
	return syscall(SYS_keyctl, cmd, a2, a3, a4, a5);
}

int main(int argc, char **argv)
{
	long sess, key, id, n;
	char name[64], buf[64];
	int ret = 1;

	test_init(argc, argv);

	ssprintf(name, "zdtm-ses01.%d.%ld", getpid(), (long)time(NULL));
	sess = keyctl(KEYCTL_JOIN_SESSION_KEYRING, (unsigned long)name, 0, 0, 0);
	if (sess < 0)
		return pr_perror("KEYCTL_JOIN_SESSION_KEYRING %s", name);
	key = syscall(SYS_add_key, "user", "zdtm-ses01", PAYLOAD, strlen(PAYLOAD), KEY_SPEC_SESSION_KEYRING);
	if (key < 0)
		return pr_perror("add_key");

	test_daemon();
	test_waitsig();

	id = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
	if (id != sess) {
		fail("the session keyring is %ld, was %ld", id, sess);
		goto out;
	}
	id = keyctl(KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, (unsigned long)"user", (unsigned long)"zdtm-ses01", 0);
	n = keyctl(KEYCTL_READ, key, (unsigned long)buf, sizeof(buf), 0);
	if (id != key || n != (long)strlen(PAYLOAD) || memcmp(buf, PAYLOAD, n)) {
		fail("the key is %ld (was %ld), %ld bytes of payload", id, key, n);
		goto out;
	}
	pass();
	ret = 0;
out:
	keyctl(KEYCTL_INVALIDATE, key, 0, 0, 0);
	keyctl(KEYCTL_INVALIDATE, sess, 0, 0, 0);
	return ret;
}
