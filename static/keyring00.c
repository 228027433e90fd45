#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "A named session keyring the test joined (KEYCTL_JOIN_SESSION_KEYRING) and its process "
		       "keyring, each holding a \"user\" key: after C/R both keyrings have the same ids, the "
		       "session keyring its name, and both keys are found and read with the same ids and payloads";
const char *test_author = "Stasis developers";

#define P1 "payload of the session key"
#define P2 "payload of the process key, a bit longer"

static long keyctl(int cmd, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
	return syscall(SYS_keyctl, cmd, a2, a3, a4, a5);
}

static long add_key(const char *type, const char *desc, const void *payload, size_t len, long ring)
{
	return syscall(SYS_add_key, type, desc, payload, len, ring);
}

/* the key's payload must be exactly want */
static int check_payload(long id, const char *want, const char *what)
{
	char buf[256];
	long n = keyctl(KEYCTL_READ, id, (unsigned long)buf, sizeof(buf), 0);

	if (n != (long)strlen(want) || memcmp(buf, want, n)) {
		fail("%s (%ld): KEYCTL_READ gives %ld bytes, expected \"%s\"", what, id, n, want);
		return 1;
	}
	return 0;
}

/* the keyring's contents must be exactly the one key */
static int check_ring(long ring, long key, const char *what)
{
	int32_t ids[8];
	long n = keyctl(KEYCTL_READ, ring, (unsigned long)ids, sizeof(ids), 0);

	if (n != sizeof(int32_t) || ids[0] != key) {
		fail("%s (%ld) holds %ld bytes of key ids (first %d), expected just key %ld", what, ring, n,
		     n >= 4 ? ids[0] : -1, key);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long sess, proc, k1, k2, id;
	char name[64], desc[256], *p;
	int ret = 1;

	test_init(argc, argv);

	ssprintf(name, "zdtm-keyring00.%d.%ld", getpid(), (long)time(NULL));
	sess = keyctl(KEYCTL_JOIN_SESSION_KEYRING, (unsigned long)name, 0, 0, 0);
	if (sess < 0) {
		pr_perror("KEYCTL_JOIN_SESSION_KEYRING %s", name);
		return 1;
	}
	k1 = add_key("user", "zdtm-k1", P1, strlen(P1), KEY_SPEC_SESSION_KEYRING);
	k2 = add_key("user", "zdtm-k2", P2, strlen(P2), KEY_SPEC_PROCESS_KEYRING);
	if (k1 < 0 || k2 < 0) {
		pr_perror("add_key");
		goto out;
	}
	proc = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 0, 0, 0);
	if (proc < 0 || keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0) != sess) {
		pr_perror("KEYCTL_GET_KEYRING_ID");
		goto out;
	}
	if (check_ring(sess, k1, "the session keyring") || check_ring(proc, k2, "the process keyring"))
		goto out;

	test_daemon();
	test_waitsig();

	id = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
	if (id != sess) {
		fail("the session keyring is %ld after C/R, was %ld", id, sess);
		goto out;
	}
	id = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 0, 0, 0);
	if (id != proc) {
		fail("the process keyring is %ld after C/R, was %ld", id, proc);
		goto out;
	}
	/* "keyring;uid;gid;perm;name" */
	id = keyctl(KEYCTL_DESCRIBE, sess, (unsigned long)desc, sizeof(desc), 0);
	p = id > 0 ? strrchr(desc, ';') : NULL;
	if (!p || strncmp(desc, "keyring;", 8) || strcmp(p + 1, name)) {
		fail("the session keyring is described as \"%s\" after C/R, expected its name %s",
		     id > 0 ? desc : "", name);
		goto out;
	}
	if (check_ring(sess, k1, "the session keyring after C/R") ||
	    check_ring(proc, k2, "the process keyring after C/R"))
		goto out;
	id = keyctl(KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, (unsigned long)"user", (unsigned long)"zdtm-k1", 0);
	if (id != k1) {
		fail("searching the session keyring for zdtm-k1 gives %ld after C/R, expected %ld", id, k1);
		goto out;
	}
	id = keyctl(KEYCTL_SEARCH, KEY_SPEC_PROCESS_KEYRING, (unsigned long)"user", (unsigned long)"zdtm-k2", 0);
	if (id != k2) {
		fail("searching the process keyring for zdtm-k2 gives %ld after C/R, expected %ld", id, k2);
		goto out;
	}
	if (check_payload(k1, P1, "the session key after C/R") || check_payload(k2, P2, "the process key after C/R"))
		goto out;
	pass();
	ret = 0;
out:
	/* keys count against the uid's quota: drop them now */
	if (k1 > 0)
		keyctl(KEYCTL_INVALIDATE, k1, 0, 0, 0);
	if (k2 > 0)
		keyctl(KEYCTL_INVALIDATE, k2, 0, 0, 0);
	keyctl(KEYCTL_INVALIDATE, sess, 0, 0, 0);
	return ret;
}
