#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A userfaultfd-registered mapping cannot be dumped: dump must fail cleanly and leave the "
		       "fd and the registration working";
const char *test_author = "Stasis developers";

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

static int uffd;
static uint8_t *area;
static uint8_t page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static int uffd_copy(unsigned long dst, uint8_t fill)
{
	struct uffdio_copy c = { .dst = dst, .src = (unsigned long)page, .len = PAGE_SIZE, .mode = 0 };

	memset(page, fill, sizeof(page));
	if (ioctl(uffd, UFFDIO_COPY, &c) || c.copy != PAGE_SIZE)
		return -1;
	return 0;
}

static void *toucher(void *arg)
{
	/* Page 1 is missing: this read sleeps in the kernel until the monitor (main) fills it */
	return (void *)(unsigned long)((volatile uint8_t *)area)[PAGE_SIZE + 123];
}

int main(int argc, char **argv)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	struct uffdio_register reg;
	struct uffd_msg msg;
	struct pollfd pfd;
	pthread_t th;
	void *res;
	int i;

	test_init(argc, argv);

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uffd < 0) {
		pr_perror("userfaultfd");
		return 1;
	}
	if (ioctl(uffd, UFFDIO_API, &api)) {
		pr_perror("UFFDIO_API");
		return 1;
	}
	area = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	reg.range.start = (unsigned long)area;
	reg.range.len = 2 * PAGE_SIZE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		pr_perror("UFFDIO_REGISTER");
		return 1;
	}
	if (uffd_copy((unsigned long)area, 0x5a)) {
		pr_perror("UFFDIO_COPY (page 0)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < PAGE_SIZE; i++)
		if (area[i] != 0x5a) {
			fail("page 0 byte %d is %#x, expected 0x5a", i, area[i]);
			return 1;
		}

	/* The registration must still catch a fault, and the fd must still resolve it */
	if (pthread_create(&th, NULL, toucher, NULL)) {
		fail("pthread_create");
		return 1;
	}
	pfd.fd = uffd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 5000) != 1) {
		fail("no userfault event within 5 s of touching the missing page");
		return 1;
	}
	if (read(uffd, &msg, sizeof(msg)) != sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT ||
	    (msg.arg.pagefault.address & ~(PAGE_SIZE - 1UL)) != (unsigned long)area + PAGE_SIZE) {
		fail("bad userfault message: event %#x address %#llx", msg.event,
		     (unsigned long long)msg.arg.pagefault.address);
		return 1;
	}
	if (uffd_copy((unsigned long)area + PAGE_SIZE, 0xa7)) {
		fail("UFFDIO_COPY (page 1)");
		return 1;
	}
	if (pthread_join(th, &res) || (unsigned long)res != 0xa7) {
		fail("the faulting thread read %#lx, expected 0xa7", (unsigned long)res);
		return 1;
	}

	pass();
	return 0;
}
