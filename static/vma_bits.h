#ifndef ZDTM_VMA_BITS_H
#define ZDTM_VMA_BITS_H

/* VmFlags of /proc/self/smaps as bits (compiled into the programs that include this, as upstream's AUX_SRC) */

#define SMAPS_LOCKED (1UL << 0)	 /* lo */
#define SMAPS_DONTFORK (1UL << 1) /* dc */
#define SMAPS_DONTDUMP (1UL << 2) /* dd */
#define SMAPS_HUGE (1UL << 3)	 /* hg */
#define SMAPS_NOHUGE (1UL << 4)	 /* nh */
#define SMAPS_SEQ (1UL << 5)	 /* sr */
#define SMAPS_RAND (1UL << 6)	 /* rr */
#define SMAPS_WIPEONFORK (1UL << 7) /* wf */
#define SMAPS_MERGEABLE (1UL << 8) /* mg */

/* the bits of the VMA that holds addr: 0, or -1 if no VMA holds it */
extern int vma_bits(unsigned long addr, unsigned long *bits);

#endif
