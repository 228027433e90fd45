#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "__thread variables keep their values and addresses, fs_base (ARCH_GET_FS) is unchanged";
const char *test_author = "Stasis developers";

static __thread uint64_t tls_val = 0x1234;
static __thread uint32_t tls_arr[512];
static __thread uint64_t tls_zero;

static unsigned long get_fs(void)
{
	unsigned long fs = 0;

	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &fs))
		return 0;
	return fs;
}

/* Read the TCB self pointer through the fs segment, the way libc finds its thread data. */
static unsigned long fs_self(void)
{
	unsigned long v;

	asm volatile("mov %%fs:0, %0" : "=r"(v));
	return v;
}

int main(int argc, char **argv)
{
	unsigned long fs0, fs1;
	void *addr_val, *addr_arr;
	unsigned i;

	test_init(argc, argv);

	tls_val = 0xfeedface12345678ULL;
	for (i = 0; i < ARRAY_SIZE(tls_arr); i++)
		tls_arr[i] = i * 2654435761u;
	addr_val = &tls_val;
	addr_arr = tls_arr;
	fs0 = get_fs();
	if (!fs0 || fs_self() != fs0) {
		pr_err("fs_base %#lx, fs:0 %#lx\n", fs0, fs_self());
		return 1;
	}

	test_daemon();
	test_waitsig();

	fs1 = get_fs();
	if (fs1 != fs0) {
		fail("fs_base changed: %#lx -> %#lx", fs0, fs1);
		return 1;
	}
	if (fs_self() != fs0) {
		fail("TCB self pointer at fs:0 is %#lx, expected %#lx", fs_self(), fs0);
		return 1;
	}
	if ((void *)&tls_val != addr_val || (void *)tls_arr != addr_arr) {
		fail("TLS variables moved: %p -> %p", addr_val, (void *)&tls_val);
		return 1;
	}
	if (tls_val != 0xfeedface12345678ULL || tls_zero != 0) {
		fail("TLS scalar values changed: %#llx %#llx", (unsigned long long)tls_val, (unsigned long long)tls_zero);
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(tls_arr); i++)
		if (tls_arr[i] != i * 2654435761u) {
			fail("TLS array differs at %u", i);
			return 1;
		}

	pass();
	return 0;
}
