#include <sys/mman.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "A big anonymous area (--size MiB, default 256) filled with generated data keeps every byte";
const char *test_author = "Stasis developers";

#define CHUNK (1 << 20)

static unsigned int size = 256;
TEST_OPTION(size, uint, "size of the area in MiB (default 256)", 0);

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint8_t *mem;
	unsigned int i;
	uint32_t crc;
	double t;

	test_init(argc, argv);

	if (size == 0) {
		pr_err("--size must be positive\n");
		return 1;
	}
	mem = mmap(NULL, (size_t)size * CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		pr_perror("mmap %u MiB", size);
		return 1;
	}

	t = now();
	/* Every 1 MiB chunk gets its own data and its own CRC in its last 4 bytes. */
	for (i = 0; i < size; i++) {
		crc = ~0;
		datagen(mem + (size_t)i * CHUNK, CHUNK, &crc);
	}
	test_msg("filled %u MiB in %.2f s\n", size, now() - t);

	test_daemon();
	test_waitsig();

	for (i = 0; i < size; i++) {
		crc = ~0;
		if (datachk(mem + (size_t)i * CHUNK, CHUNK, &crc)) {
			fail("data mismatch in MiB %u of %u", i, size);
			return 1;
		}
	}

	pass();
	return 0;
}
