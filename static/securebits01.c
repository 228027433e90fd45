#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "Check that a locked set of securebits (noroot, no-setuid-fixup, keep-caps locked, no ambient "
		       "raise, exec restrictions if the kernel has them) and the capabilities kept across a switch to "
		       "uid 18943 survive C/R (starts as root)";
const char *test_author = "Stasis developers";

#ifndef SECBIT_EXEC_RESTRICT_FILE
#define SECBIT_EXEC_RESTRICT_FILE (1 << 8)
#define SECBIT_EXEC_RESTRICT_FILE_LOCKED (1 << 9)
#define SECBIT_EXEC_DENY_INTERACTIVE (1 << 10)
#define SECBIT_EXEC_DENY_INTERACTIVE_LOCKED (1 << 11)
#endif

#define UID 18943
#define GID 58467

#define BASE_BITS                                                                                             \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |        \
	 SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)
#define EXEC_BITS                                                                                             \
	(SECBIT_EXEC_RESTRICT_FILE | SECBIT_EXEC_RESTRICT_FILE_LOCKED | SECBIT_EXEC_DENY_INTERACTIVE |          \
	 SECBIT_EXEC_DENY_INTERACTIVE_LOCKED)

#define CAPBIT(c) (1U << (c))
#define EFF_CAPS (CAPBIT(CAP_CHOWN) | CAPBIT(CAP_KILL))
#define PRM_CAPS (EFF_CAPS | CAPBIT(CAP_FOWNER) | CAPBIT(CAP_DAC_OVERRIDE))
#define INH_CAPS (CAPBIT(CAP_KILL))

struct state {
	int bits;
	uid_t uid[3];
	struct __user_cap_data_struct caps[2];
	char status[4][256];
};

static const char *keys[] = { "CapInh:", "CapPrm:", "CapEff:", "Uid:" };

static int get_state(struct state *s)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	char line[256];
	unsigned i;
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (getresuid(&s->uid[0], &s->uid[1], &s->uid[2]) || syscall(SYS_capget, &hdr, s->caps))
		return -1;
	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])))
				snprintf(s->status[i], sizeof(s->status[i]), "%s", line);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	struct state before, after;
	int bits = BASE_BITS | EXEC_BITS;
	unsigned i;

	test_init(argc, argv);

	if (getuid() != 0) {
		pr_err("securebits01 must start as root (desc flag suid)\n");
		return 1;
	}
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0)) {
		bits = BASE_BITS; /* a kernel before 6.14: no exec restriction bits */
		if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0)) {
			pr_perror("PR_SET_SECUREBITS %#x", bits);
			return 1;
		}
	}
	if (setresgid(GID, GID, GID) || setresuid(UID, UID, UID)) {
		pr_perror("setres[ug]id");
		return 1;
	}
	memset(data, 0, sizeof(data));
	data[0].effective = EFF_CAPS;
	data[0].permitted = PRM_CAPS;
	data[0].inheritable = INH_CAPS;
	if (syscall(SYS_capset, &hdr, data)) {
		pr_perror("capset");
		return 1;
	}
	if (get_state(&before) || before.bits != bits || before.caps[0].effective != EFF_CAPS ||
	    before.caps[0].permitted != PRM_CAPS || before.caps[0].inheritable != INH_CAPS || before.caps[1].permitted) {
		pr_err("state right after setting: securebits %#x (want %#x), caps eff %#x prm %#x inh %#x\n",
		       before.bits, bits, before.caps[0].effective, before.caps[0].permitted,
		       before.caps[0].inheritable);
		return 1;
	}
	/* The locks hold: clearing a locked bit is refused */
	if (prctl(PR_SET_SECUREBITS, 0, 0, 0, 0) != -1 || errno != EPERM) {
		pr_err("clearing locked securebits did not fail with EPERM\n");
		return 1;
	}
	test_msg("securebits %#x\n", bits);

	test_daemon();
	test_waitsig();

	if (get_state(&after)) {
		fail("can't read the state");
		return 1;
	}
	if (after.bits != before.bits) {
		fail("securebits %#x, expected %#x", after.bits, before.bits);
		return 1;
	}
	if (memcmp(after.uid, before.uid, sizeof(after.uid))) {
		fail("uids %d/%d/%d, expected %d/%d/%d", (int)after.uid[0], (int)after.uid[1], (int)after.uid[2],
		     (int)before.uid[0], (int)before.uid[1], (int)before.uid[2]);
		return 1;
	}
	if (memcmp(after.caps, before.caps, sizeof(after.caps))) {
		fail("capabilities eff %#x prm %#x inh %#x, expected %#x %#x %#x", after.caps[0].effective,
		     after.caps[0].permitted, after.caps[0].inheritable, before.caps[0].effective,
		     before.caps[0].permitted, before.caps[0].inheritable);
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(after.status[i], before.status[i])) {
			fail("/proc/self/status line '%s' became '%s'", before.status[i], after.status[i]);
			return 1;
		}
	if (prctl(PR_SET_SECUREBITS, 0, 0, 0, 0) != -1 || errno != EPERM) {
		fail("clearing the securebits did not fail with EPERM: they are not locked");
		return 1;
	}
	pass();
	return 0;
}
