/* Helpers for tests that push data through pipes, sockets and ttys. */
#include <fcntl.h>

#include "zdtmtst.h"

int set_nonblock(int fd, int on)
{
	int flags = fcntl(fd, F_GETFL, 0);

	if (flags < 0)
		return flags;
	flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, flags);
}

/*
 * Copy everything readable from @infd to @outfd (both non-blocking in practice)
 * until @infd would block.  Returns the number of bytes moved, or -1.
 */
int pipe_in2out(int infd, int outfd, uint8_t *buffer, int length)
{
	uint8_t *p;
	int total = 0;
	ssize_t rd, wr;

	while (1) {
		rd = read(infd, buffer, length);
		if (rd < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return total;
			pr_perror("read failed");
			return -1;
		}
		if (rd == 0)
			return total;

		for (p = buffer; rd > 0; p += wr, rd -= wr) {
			wr = write(outfd, p, rd);
			if (wr < 0) {
				if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
					wr = 0;
					continue;
				}
				pr_perror("write failed");
				return -1;
			}
			total += wr;
		}
	}
}

/* Read exactly @len bytes; a short stream is an error. */
int read_data(int fd, unsigned char *buf, int len)
{
	int off = 0;
	ssize_t ret;

	while (off < len) {
		ret = read(fd, buf + off, len - off);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			if (ret == 0)
				pr_err("Unexpected EOF after %d of %d bytes\n", off, len);
			else
				pr_perror("Can't read data");
			return -1;
		}
		off += ret;
	}
	return 0;
}

/* Write exactly @len bytes. */
int write_data(int fd, const unsigned char *buf, int len)
{
	int off = 0;
	ssize_t ret;

	while (off < len) {
		ret = write(fd, buf + off, len - off);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			pr_perror("Can't write data");
			return -1;
		}
		off += ret;
	}
	return 0;
}
