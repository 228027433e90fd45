#include "zdtmtst.h"

const char *test_doc = "Data in the frames of a deep recursion survives; checked on the way back up after C/R";
const char *test_author = "Stasis developers";

#define DEPTH 300
#define FRAME_BYTES 512

struct frame {
	struct frame *up; /* the caller's frame: a pointer into the stack itself */
	unsigned depth;
	uint32_t crc;
	uint8_t data[FRAME_BYTES];
};

static int failed;

static uint8_t frame_byte(unsigned depth, unsigned i)
{
	return (uint8_t)(depth * 131 + i * 7 + (i >> 3));
}

static void __attribute__((noinline)) fill(struct frame *f, struct frame *up, unsigned depth)
{
	unsigned i;

	f->up = up;
	f->depth = depth;
	for (i = 0; i < FRAME_BYTES; i++)
		f->data[i] = frame_byte(depth, i);
	f->crc = ~0;
	datasum(f->data, FRAME_BYTES, &f->crc);
}

static int __attribute__((noinline)) check(const struct frame *f, const struct frame *up, unsigned depth)
{
	uint32_t crc = ~0;
	unsigned i;

	if (f->up != up || f->depth != depth)
		return 1;
	/* Follow the saved pointer: the caller's frame must still be at the same address. */
	if (up && up->depth != depth - 1)
		return 1;
	for (i = 0; i < FRAME_BYTES; i++)
		if (f->data[i] != frame_byte(depth, i))
			return 1;
	datasum(f->data, FRAME_BYTES, &crc);
	return crc != f->crc;
}

static unsigned __attribute__((noinline)) recurse(struct frame *up, unsigned depth)
{
	volatile struct frame f; /* volatile: must really live in this stack frame */
	unsigned ret;

	fill((struct frame *)&f, up, depth);
	if (depth == DEPTH) {
		test_daemon();
		test_waitsig();
		ret = depth;
	} else {
		ret = recurse((struct frame *)&f, depth + 1);
	}
	if (check((struct frame *)&f, up, depth)) {
		if (!failed)
			fail("frame at depth %u (%p) corrupted", depth, &f);
		failed = 1;
	}
	return ret + 1; /* not a tail call */
}

int main(int argc, char **argv)
{
	unsigned ret;

	test_init(argc, argv);

	ret = recurse(NULL, 1);
	if (failed)
		return 1;
	if (ret != 2 * DEPTH) {
		fail("recursion returned %u, expected %u", ret, 2 * DEPTH);
		return 1;
	}
	pass();
	return 0;
}
