#include <mqueue.h>
#include <sys/statfs.h>

#include "mnt_util.h"

const char *test_doc = "The mqueue file system mounted by the test on a directory of its own, read-only on a "
		       "second one (no queue exists at the dump): after C/R both are mqueue mounts (statfs "
		       "MQUEUE_MAGIC) with their flags, and a queue made with mq_open() after C/R appears in both "
		       "with its attributes (they show the IPC namespace's queues)";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

#define MQUEUE_MAGIC 0x19800202
#define QNAME "/zdtm_mnt_mqueue00"

static int is_mqueue(const char *path, int ro)
{
	struct statfs sf;
	struct mu_info mi;

	if (statfs(path, &sf) || mu_info(path, &mi))
		return pr_perror("statfs %s", path);
	if (sf.f_type != MQUEUE_MAGIC || strcmp(mi.fstype, "mqueue") || mu_has_opt(mi.opts, "ro") != ro ||
	    !mu_has_opt(mi.opts, "nosuid")) {
		pr_err("%s: type %lx (%s), options %s\n", path, (long)sf.f_type, mi.fstype, mi.opts);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 3, .mq_msgsize = 64 };
	char buf[256];
	mqd_t q;
	int fd;
	ssize_t n;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("mq", 0755) || mkdir("ro", 0755) ||
	    mount("zdtm_mnt_mqueue00", "mq", "mqueue", MS_NOSUID, NULL) ||
	    mount("zdtm_mnt_mqueue00_ro", "ro", "mqueue", MS_NOSUID | MS_RDONLY, NULL)) {
		pr_perror("mount mqueue");
		return 1;
	}
	if (is_mqueue("mq", 0) || is_mqueue("ro", 1))
		return 1;

	test_daemon();
	test_waitsig();

	if (is_mqueue("mq", 0) || is_mqueue("ro", 1)) {
		fail("the mqueue mounts after C/R");
		return 1;
	}
	q = mq_open(QNAME, O_CREAT | O_EXCL | O_RDWR, 0640, &attr);
	if (q == (mqd_t)-1) {
		fail("mq_open after C/R");
		return 1;
	}
	fd = open("ro" QNAME, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0 || (buf[n] = 0, !strstr(buf, "QSIZE:0")) || access("mq" QNAME, F_OK)) {
		fail("the queue is not in the mounts after C/R");
		return 1;
	}
	close(fd);
	mq_close(q);
	mq_unlink(QNAME);
	pass();
	return 0;
}
