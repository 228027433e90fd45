#include <fcntl.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the nice value of the session's autogroup (/proc/self/autogroup) survives C/R";
const char *test_author = "Stasis developers";

#define AG_NICE 5

/* The nice value in /proc/self/autogroup ("/autogroup-N nice X"), or -100 */
static int ag_nice(char *line, size_t len)
{
	char *p;
	FILE *f;

	line[0] = 0;
	f = fopen("/proc/self/autogroup", "r");
	if (!f)
		return -100;
	if (!fgets(line, len, f)) {
		fclose(f);
		return -100;
	}
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	p = strstr(line, " nice ");
	return p ? atoi(p + 6) : -100;
}

int main(int argc, char **argv)
{
	char before[128], after[128];
	int fd, i;

	test_init(argc, argv);

	if (access("/proc/self/autogroup", F_OK)) {
		skip("/proc/self/autogroup is missing");
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}
	if (getsid(0) != getpid()) {
		pr_err("the test is not a session leader\n");
		return 1;
	}
	if (ag_nice(before, sizeof(before)) == AG_NICE) {
		pr_err("the autogroup nice is %d already: the test would prove nothing\n", AG_NICE);
		return 1;
	}
	fd = open("/proc/self/autogroup", O_WRONLY);
	if (fd < 0) {
		pr_perror("open /proc/self/autogroup");
		return 1;
	}
	/* unprivileged writers share one kernel-wide slot a second (EAGAIN): other items may have it */
	for (i = 0; write(fd, __stringify(AG_NICE), 1) != 1; i++) {
		if (errno != EAGAIN || i == 50) {
			pr_perror("write /proc/self/autogroup");
			return 1;
		}
		usleep(100000);
	}
	close(fd);
	if (ag_nice(before, sizeof(before)) != AG_NICE) {
		pr_err("/proc/self/autogroup is '%s' after writing %d\n", before, AG_NICE);
		return 1;
	}
	test_msg("autogroup: %s\n", before);

	test_daemon();
	test_waitsig();

	if (ag_nice(after, sizeof(after)) != AG_NICE) {
		fail("/proc/self/autogroup is '%s', expected nice %d (was '%s')", after, AG_NICE, before);
		return 1;
	}
	pass();
	return 0;
}
