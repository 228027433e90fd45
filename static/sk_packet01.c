#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "zdtmtst.h"

const char *test_doc = "A packet socket with a TPACKET_V2 receive ring (not mapped: a mapped one is refused as a "
		       "mapping of a socket): rings are not restored, so the dump is refused and the tree goes on "
		       "with its ring (PACKET_VERSION cannot change while it exists)";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct tpacket_req req = { .tp_block_size = 4096, .tp_block_nr = 4, .tp_frame_size = 2048, .tp_frame_nr = 8 };
	int fd, v1 = TPACKET_V1, v2 = TPACKET_V2;
	void *ring;

	test_init(argc, argv);

	fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: receives nothing */
	if (fd < 0)
		return pr_perror("socket");
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		return pr_perror("PACKET_RX_RING");

	test_daemon();
	test_waitsig();

	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v1, sizeof(v1)) != -1 || errno != EBUSY) {
		fail("the ring is gone");
		return 1;
	}
	ring = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED || ((struct tpacket2_hdr *)ring)->tp_status != TP_STATUS_KERNEL) {
		fail("the ring cannot be mapped");
		return 1;
	}
	pass();
	return 0;
}
