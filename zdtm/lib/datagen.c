/*
 * Pseudo-random test data with a CRC32 (reflected, poly 0xedb88320, no final xor,
 * the caller seeds *crc) so a test can verify memory/file contents after C/R.
 */
#include "zdtmtst.h"

/*
 * Generating mrand48 data byte by byte is slow for big buffers, so anything over
 * FAST_SIZE repeats the first FAST_SIZE bytes.  A prime period keeps the pattern
 * from lining up with pages, so a page mixed up with another one is still caught.
 */
#define FAST_SIZE 99971

static uint32_t crc32_byte(uint32_t crc, uint8_t b)
{
	int i;

	crc ^= b;
	for (i = 0; i < 8; i++)
		crc = (crc >> 1) ^ ((crc & 1) ? 0xedb88320 : 0);
	return crc;
}

/* Fill with mrand48 output, 4 bytes per call, little-endian; optionally fold into *crc. */
static void fill_random(uint8_t *buf, unsigned len, uint32_t *crc)
{
	uint32_t rnd = 0;
	unsigned left = 0;

	for (; len; len--, buf++) {
		if (!left) {
			rnd = (uint32_t)mrand48();
			left = 4;
		}
		*buf = (uint8_t)rnd;
		rnd >>= 8;
		left--;
		if (crc)
			*crc = crc32_byte(*crc, *buf);
	}
}

static void repeat_pattern(uint8_t *buf, unsigned length)
{
	unsigned off;

	for (off = FAST_SIZE; off < length; off += FAST_SIZE)
		memcpy(buf + off, buf, length - off < FAST_SIZE ? length - off : FAST_SIZE);
}

void datagen(uint8_t *buffer, unsigned length, uint32_t *crc)
{
	unsigned n;

	if (length > FAST_SIZE) {
		datagen(buffer, FAST_SIZE, crc);
		repeat_pattern(buffer, length);
		return;
	}
	if (length <= 4) {
		/* No room for data: only the CRC (as upstream: the buffer holds the crc or nothing). */
		n = 0;
	} else {
		n = length - 4;
	}
	fill_random(buffer, n, crc);
	if (crc && length >= 4) {
		buffer[n] = *crc;
		buffer[n + 1] = *crc >> 8;
		buffer[n + 2] = *crc >> 16;
		buffer[n + 3] = *crc >> 24;
	}
}

void datagen2(uint8_t *buffer, unsigned length, uint32_t *crc)
{
	fill_random(buffer, length, crc);
}

int datachk(const uint8_t *buffer, unsigned length, uint32_t *crc)
{
	uint32_t stored;
	unsigned off, i;

	if (length > FAST_SIZE) {
		if (datachk(buffer, FAST_SIZE, crc))
			return 1;
		for (off = FAST_SIZE; off < length; off += FAST_SIZE) {
			unsigned n = length - off < FAST_SIZE ? length - off : FAST_SIZE;

			if (memcmp(buffer + off, buffer, n)) {
				test_msg("Memory corruption [%p, %p]\n", buffer + off, buffer + off + n);
				return 1;
			}
		}
		return 0;
	}
	if (length < 4) {
		test_msg("datachk: buffer of %u bytes can't hold a CRC\n", length);
		return 1;
	}

	for (i = 0; i < length - 4; i++)
		*crc = crc32_byte(*crc, buffer[i]);
	stored = buffer[i] | buffer[i + 1] << 8 | buffer[i + 2] << 16 | (uint32_t)buffer[i + 3] << 24;
	if (stored != *crc) {
		test_msg("Read: %x, Expected: %x\n", stored, *crc);
		return 1;
	}
	return 0;
}

int datasum(const uint8_t *buffer, unsigned length, uint32_t *crc)
{
	for (; length; length--, buffer++)
		*crc = crc32_byte(*crc, *buffer);
	return 0;
}
