#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnt_info.h"

int mnt_info_at(const char *path, struct mnt_info *mi)
{
	char line[8192], real[PATH_MAX], *dash;
	struct mnt_info cur;
	int found = -1;
	FILE *f;

	if (!realpath(path, real))
		return -1;
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* id parent maj:min root point opts [optional fields] - fstype source super */
		if (sscanf(line, "%d %d %*s %4095s %4095s %1023s", &cur.id, &cur.parent, cur.root, cur.point,
			   cur.opts) != 5)
			continue;
		dash = strstr(line, " - ");
		if (!dash || sscanf(dash + 3, "%63s %255s %1023s", cur.fstype, cur.source, cur.super) != 3)
			continue;
		if (strcmp(cur.point, real) == 0) {
			*mi = cur; /* the last one listed is the topmost */
			found = 0;
		}
	}
	fclose(f);
	return found;
}

int mnt_has_opt(const char *opts, const char *opt)
{
	size_t n = strlen(opt);
	const char *p = opts;

	while ((p = strstr(p, opt))) {
		if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}
