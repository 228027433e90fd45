#include <linux/membarrier.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "Check that membarrier registrations (private expedited, and sync-core when the kernel has it) "
		       "survive C/R: the expedited commands work and GET_REGISTRATIONS is unchanged";
const char *test_author = "Stasis developers";

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)
#endif

static int membarrier(int cmd, unsigned int flags)
{
	return syscall(__NR_membarrier, cmd, flags, 0);
}

static int sync_core;

/* 0 if the expedited commands the test registered for work */
static int expedited_ok(const char *when)
{
	if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0)) {
		fail("%s: MEMBARRIER_CMD_PRIVATE_EXPEDITED", when);
		return 1;
	}
	if (sync_core && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0)) {
		fail("%s: MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE", when);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int query, before, after;

	test_init(argc, argv);

	query = membarrier(MEMBARRIER_CMD_QUERY, 0);
	if (query < 0 || !(query & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
		skip("membarrier private expedited is not supported (query %d)", query);
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}
	sync_core = !!(query & MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE);

	/* Not registered yet: the expedited command is refused */
	if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) != -1 || errno != EPERM) {
		pr_perror("MEMBARRIER_CMD_PRIVATE_EXPEDITED before registering did not fail with EPERM");
		return 1;
	}
	if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0)) {
		pr_perror("MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED");
		return 1;
	}
	if (sync_core && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0)) {
		pr_perror("MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE");
		return 1;
	}
	before = membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS, 0);
	if (before < 0) {
		pr_perror("MEMBARRIER_CMD_GET_REGISTRATIONS");
		return 1;
	}
	if (!(before & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) ||
	    (sync_core && !(before & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE))) {
		pr_err("registrations %#x do not include the ones made (sync-core %d)\n", before, sync_core);
		return 1;
	}
	if (expedited_ok("before C/R"))
		return 1;
	test_msg("registrations %#x (sync-core %d)\n", before, sync_core);

	test_daemon();
	test_waitsig();

	after = membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS, 0);
	if (after != before) {
		fail("membarrier registrations were %#x, now %#x", before, after);
		return 1;
	}
	if (expedited_ok("after C/R"))
		return 1;

	pass();
	return 0;
}
