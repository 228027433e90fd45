#include <sys/mman.h>

#include "zdtmtst.h"

const char *test_doc = "Continuously mmaps, mprotects and munmaps anonymous areas; every area's generated "
		       "content is verified before it is unmapped and at the end";
const char *test_author = "Stasis developers";

#define NR_SLOTS 128
#define MAX_PAGES 16

struct slot {
	uint8_t *addr;
	size_t len;
	int prot;
};

static struct slot slots[NR_SLOTS];

static int check_slot(struct slot *s, unsigned idx, unsigned long long iter)
{
	uint32_t crc = ~0;

	if (!(s->prot & PROT_READ) && mprotect(s->addr, s->len, PROT_READ)) {
		fail("mprotect slot %u readable", idx);
		return 1;
	}
	s->prot |= PROT_READ;
	if (datachk(s->addr, s->len, &crc)) {
		fail("slot %u (%zu bytes at %p) corrupted at iteration %llu", idx, s->len, s->addr, iter);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const int prots[] = { PROT_READ, PROT_NONE, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC };
	unsigned long long iter = 0, maps = 0, unmaps = 0;
	unsigned i;

	test_init(argc, argv);
	test_daemon();

	while (test_go()) {
		struct slot *s;
		uint32_t crc;

		i = lrand48() % NR_SLOTS;
		s = &slots[i];
		iter++;
		if (!s->addr) {
			s->len = (1 + lrand48() % MAX_PAGES) * PAGE_SIZE;
			s->addr = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (s->addr == MAP_FAILED) {
				fail("mmap %zu", s->len);
				return 1;
			}
			crc = ~0;
			datagen(s->addr, s->len, &crc);
			s->prot = PROT_READ | PROT_WRITE;
			maps++;
		} else if (lrand48() % 3 == 0) {
			/* change the protection of the whole area or of its first page */
			int prot = prots[lrand48() % ARRAY_SIZE(prots)];
			size_t len = lrand48() % 2 ? s->len : PAGE_SIZE;

			if (len != s->len) {
				/* a partial change must keep the rest readable for the final check */
				if (check_slot(s, i, iter))
					return 1;
				prot |= PROT_READ;
			}
			if (mprotect(s->addr, len, prot)) {
				fail("mprotect slot %u", i);
				return 1;
			}
			if (len == s->len)
				s->prot = prot;
		} else {
			if (check_slot(s, i, iter))
				return 1;
			if (munmap(s->addr, s->len)) {
				fail("munmap slot %u", i);
				return 1;
			}
			s->addr = NULL;
			unmaps++;
		}
	}

	for (i = 0; i < NR_SLOTS; i++)
		if (slots[i].addr && check_slot(&slots[i], i, iter))
			return 1;
	test_msg("%llu iterations, %llu mmaps, %llu munmaps\n", iter, maps, unmaps);
	if (!maps) {
		fail("nothing was mapped");
		return 1;
	}
	pass();
	return 0;
}
