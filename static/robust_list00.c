#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that a custom robust futex list head (set_robust_list) survives C/R";
const char *test_author = "Stasis developers";

/* A head of its own, with an odd (but kernel-accepted) futex_offset, and one locked entry on the list */
static struct {
	struct robust_list_head head;
	struct robust_list entry;
	long pad;
	unsigned int futex;
} rl __attribute__((aligned(64)));

static int get_robust_list(struct robust_list_head **head, size_t *len)
{
	return syscall(SYS_get_robust_list, 0, head, len);
}

int main(int argc, char **argv)
{
	struct robust_list_head *head = NULL;
	size_t len = 0;

	test_init(argc, argv);

	if (get_robust_list(&head, &len)) {
		pr_perror("get_robust_list");
		return 1;
	}
	test_msg("glibc's robust list head: %p len %zu\n", (void *)head, len);
	if (head == &rl.head) {
		pr_err("the robust list already points at the test head\n");
		return 1;
	}

	rl.head.list.next = &rl.entry;
	rl.entry.next = &rl.head.list;
	rl.head.futex_offset = (long)((char *)&rl.futex - (char *)&rl.entry);
	rl.head.list_op_pending = NULL;
	rl.futex = getpid();

	if (syscall(SYS_set_robust_list, &rl.head, sizeof(rl.head))) {
		pr_perror("set_robust_list");
		return 1;
	}
	if (get_robust_list(&head, &len) || head != &rl.head || len != sizeof(rl.head)) {
		pr_err("get_robust_list does not return what was just set\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	head = NULL;
	len = 0;
	if (get_robust_list(&head, &len)) {
		fail("get_robust_list");
		return 1;
	}
	if (head != &rl.head || len != sizeof(rl.head)) {
		fail("robust list head %p len %zu, expected %p len %zu", (void *)head, len, (void *)&rl.head,
		     sizeof(rl.head));
		return 1;
	}
	if (rl.head.list.next != &rl.entry || rl.entry.next != &rl.head.list ||
	    rl.futex != (unsigned int)getpid()) {
		fail("the robust list memory changed: next %p entry.next %p futex %#x", (void *)rl.head.list.next,
		     (void *)rl.entry.next, rl.futex);
		return 1;
	}

	pass();
	return 0;
}
