#include "zdtmtst.h"

const char *test_doc = "Initialized (.data) and zero-initialized (.bss) globals, including a large .bss array, are intact";
const char *test_author = "Stasis developers";

#define BSS_BIG (16 << 20)

/* .data: modified before C/R */
static uint64_t data_mod[1024] = { 1, 2, 3, 4, 5, 6, 7, 8 };
/* .data: never written, must still hold the initializer */
static uint64_t data_const_init[512] = { [0] = 0x1122334455667788ULL, [100] = 42, [511] = 0xdeadbeefcafef00dULL };
/* .bss */
static uint64_t bss_small[64];
static uint8_t bss_big[BSS_BIG];

static uint64_t data_val(unsigned i)
{
	return 0x9e3779b97f4a7c15ULL * (i + 1) ^ (i << 17);
}

int main(int argc, char **argv)
{
	uint32_t crc_big;
	unsigned i;

	test_init(argc, argv);

	for (i = 0; i < ARRAY_SIZE(data_mod); i++)
		data_mod[i] = data_val(i);
	for (i = 0; i < ARRAY_SIZE(bss_small); i++)
		bss_small[i] = ~data_val(i);
	/* Fill only the first half of the big array; the second half stays untouched zero pages. */
	crc_big = ~0;
	datagen(bss_big, BSS_BIG / 2, &crc_big);
	/* A few scattered single bytes in the second half */
	for (i = BSS_BIG / 2 + 4096 * 3; i < BSS_BIG; i += 4096 * 64)
		bss_big[i] = (uint8_t)(i >> 12) | 1;

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(data_mod); i++)
		if (data_mod[i] != data_val(i)) {
			fail(".data array differs at %u", i);
			return 1;
		}
	for (i = 0; i < ARRAY_SIZE(data_const_init); i++) {
		uint64_t want = i == 0 ? 0x1122334455667788ULL : i == 100 ? 42 : i == 511 ? 0xdeadbeefcafef00dULL : 0;

		if (data_const_init[i] != want) {
			fail("untouched .data array differs at %u", i);
			return 1;
		}
	}
	for (i = 0; i < ARRAY_SIZE(bss_small); i++)
		if (bss_small[i] != ~data_val(i)) {
			fail(".bss small array differs at %u", i);
			return 1;
		}
	crc_big = ~0;
	if (datachk(bss_big, BSS_BIG / 2, &crc_big)) {
		fail("first half of the big .bss array corrupted");
		return 1;
	}
	for (i = BSS_BIG / 2; i < BSS_BIG; i++) {
		uint8_t want = 0;

		if (i >= BSS_BIG / 2 + 4096 * 3 && (i - (BSS_BIG / 2 + 4096 * 3)) % (4096 * 64) == 0)
			want = (uint8_t)(i >> 12) | 1;
		if (bss_big[i] != want) {
			fail("big .bss byte %u is %#x, expected %#x", i, bss_big[i], want);
			return 1;
		}
	}

	pass();
	return 0;
}
