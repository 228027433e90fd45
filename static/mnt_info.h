#ifndef ZDTM_MNT_INFO_H
#define ZDTM_MNT_INFO_H

/* /proc/self/mountinfo lookups (compiled into the programs that include this, as upstream's AUX_SRC) */

struct mnt_info {
	int id, parent;
	char root[4096], point[4096], opts[1024], fstype[64], source[256], super[1024];
};

/* the topmost mount at path (made absolute with realpath); 0 or -1 */
extern int mnt_info_at(const char *path, struct mnt_info *mi);

/* 1 if the comma-separated list opts has the option opt, else 0 */
extern int mnt_has_opt(const char *opts, const char *opt);

#endif
