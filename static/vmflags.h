/* Helpers for the VMA-state programs: the smaps VmFlags of an address, /proc/PID/stat fields */
#ifndef ZDTM_STATIC_VMFLAGS_H
#define ZDTM_STATIC_VMFLAGS_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "zdtmtst.h"

/*
 * The VmFlags of the VMA that holds @addr, as the kernel prints them (without "VmFlags:" and the
 * newline), in @buf; its bounds in @vs/@ve when not NULL. 0 if found, -1 if no VMA holds @addr.
 */
static inline int vma_flags(unsigned long addr, char *buf, size_t len, unsigned long *vs, unsigned long *ve)
{
	char line[1024];
	unsigned long s, e;
	int in = 0, ret = -1;
	FILE *f;

	buf[0] = 0;
	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (s <= addr && addr < e);
			if (in) {
				if (vs)
					*vs = s;
				if (ve)
					*ve = e;
			}
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			char *p = line + 8;

			while (*p == ' ')
				p++;
			p[strcspn(p, "\n")] = 0;
			while (strlen(p) && p[strlen(p) - 1] == ' ')
				p[strlen(p) - 1] = 0;
			snprintf(buf, len, "%s", p);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* 1 if the two-letter mnemonic @flag is in the VmFlags string @flags */
static inline int has_vmflag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);
	const char *p = flags;

	while ((p = strstr(p, flag))) {
		if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
			return 1;
		p += n;
	}
	return 0;
}

/* Field @field (1-based, as in proc(5)) of /proc/@pid/stat (or /proc/@pid/task/@tid/stat), in @out */
static inline int stat_field(const char *path, int field, char *out, size_t len)
{
	char buf[2048], *p, *tok, *save;
	int fd, n, i;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (field == 1) {
		snprintf(out, len, "%d", atoi(buf));
		return 0;
	}
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	if (field == 2) {
		*p = 0;
		snprintf(out, len, "%s", strchr(buf, '(') + 1);
		return 0;
	}
	for (i = 3, tok = strtok_r(p + 1, " \n", &save); tok; i++, tok = strtok_r(NULL, " \n", &save))
		if (i == field) {
			snprintf(out, len, "%s", tok);
			return 0;
		}
	return -1;
}

static inline char pid_state(pid_t pid)
{
	char path[64], st[8];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (stat_field(path, 3, st, sizeof(st)))
		return '?';
	return st[0];
}

#endif
