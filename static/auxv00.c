#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the auxiliary vector (/proc/self/auxv and getauxval) survives C/R";
const char *test_author = "Stasis developers";

#define AUXV_MAX 4096

static ssize_t read_auxv(unsigned char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd;

	fd = open("/proc/self/auxv", O_RDONLY);
	if (fd < 0) {
		pr_perror("open(/proc/self/auxv)");
		return -1;
	}
	while ((n = read(fd, buf + total, size - total)) > 0)
		total += n;
	close(fd);
	if (n < 0) {
		pr_perror("read(/proc/self/auxv)");
		return -1;
	}
	return total;
}

/* Value of an entry, from the raw vector the kernel shows */
static int auxv_lookup(const unsigned char *buf, ssize_t len, unsigned long type, unsigned long *val)
{
	const Elf64_auxv_t *av = (const Elf64_auxv_t *)buf;
	size_t i;

	for (i = 0; i < len / sizeof(*av); i++) {
		if (av[i].a_type == AT_NULL)
			break;
		if (av[i].a_type == type) {
			*val = av[i].a_un.a_val;
			return 0;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	static unsigned char before[AUXV_MAX], after[AUXV_MAX];
	unsigned char random_before[16];
	unsigned long pagesz, hwcap, hwcap2, random_ptr, v;
	ssize_t blen, alen, i;

	test_init(argc, argv);

	blen = read_auxv(before, sizeof(before));
	if (blen <= 0)
		return 1;

	pagesz = getauxval(AT_PAGESZ);
	hwcap = getauxval(AT_HWCAP);
	hwcap2 = getauxval(AT_HWCAP2);
	random_ptr = getauxval(AT_RANDOM);
	if (pagesz != (unsigned long)sysconf(_SC_PAGESIZE) || !random_ptr) {
		pr_err("unexpected auxv: AT_PAGESZ %lu, AT_RANDOM %#lx\n", pagesz, random_ptr);
		return 1;
	}
	/* glibc rewrites AT_HWCAP on x86, so cross-check a value it keeps as is */
	if (auxv_lookup(before, blen, AT_PAGESZ, &v) || v != pagesz) {
		pr_err("AT_PAGESZ of getauxval and /proc/self/auxv differ\n");
		return 1;
	}
	memcpy(random_before, (void *)random_ptr, sizeof(random_before));

	test_daemon();
	test_waitsig();

	alen = read_auxv(after, sizeof(after));
	if (alen != blen) {
		fail("/proc/self/auxv was %zd bytes, now %zd", blen, alen);
		return 1;
	}
	for (i = 0; i < blen; i++) {
		if (before[i] != after[i]) {
			fail("/proc/self/auxv differs at byte %zd (entry %zd)", i, i / (ssize_t)sizeof(Elf64_auxv_t));
			return 1;
		}
	}

	if (getauxval(AT_PAGESZ) != pagesz || getauxval(AT_HWCAP) != hwcap || getauxval(AT_HWCAP2) != hwcap2) {
		fail("getauxval: AT_PAGESZ %lu/%lu AT_HWCAP %#lx/%#lx AT_HWCAP2 %#lx/%#lx (before/after)", pagesz,
		     getauxval(AT_PAGESZ), hwcap, getauxval(AT_HWCAP), hwcap2, getauxval(AT_HWCAP2));
		return 1;
	}
	if (getauxval(AT_RANDOM) != random_ptr) {
		fail("AT_RANDOM moved from %#lx to %#lx", random_ptr, getauxval(AT_RANDOM));
		return 1;
	}
	if (memcmp((void *)random_ptr, random_before, sizeof(random_before))) {
		fail("the 16 AT_RANDOM bytes changed");
		return 1;
	}
	if (auxv_lookup(after, alen, AT_RANDOM, &v) || v != random_ptr) {
		fail("AT_RANDOM in /proc/self/auxv does not match getauxval");
		return 1;
	}

	pass();
	return 0;
}
