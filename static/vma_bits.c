#include <stdio.h>
#include <string.h>

#include "vma_bits.h"

static const struct {
	const char *name;
	unsigned long bit;
} names[] = {
	{ "lo", SMAPS_LOCKED }, { "dc", SMAPS_DONTFORK }, { "dd", SMAPS_DONTDUMP },  { "hg", SMAPS_HUGE },
	{ "nh", SMAPS_NOHUGE }, { "sr", SMAPS_SEQ },	  { "rr", SMAPS_RAND },	     { "wf", SMAPS_WIPEONFORK },
	{ "mg", SMAPS_MERGEABLE },
};

int vma_bits(unsigned long addr, unsigned long *bits)
{
	unsigned long start, end;
	char line[1024];
	int in = 0, found = -1;
	unsigned i;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = addr >= start && addr < end;
			continue;
		}
		if (!in || strncmp(line, "VmFlags:", 8))
			continue;
		*bits = 0;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			char tok[8];

			snprintf(tok, sizeof(tok), " %s", names[i].name);
			if (strstr(line + 8, tok))
				*bits |= names[i].bit;
		}
		found = 0;
		break;
	}
	fclose(f);
	return found;
}
