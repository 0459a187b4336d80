/*
 * A string-keyed open-addressing hash map with a small fixed-size payload per
 * entry.  The engine keeps one per table while it diffs partitions (vkey ->
 * content hash), so it must stay compact and fast for millions of keys.
 */
#ifndef MS_UTIL_STRMAP_H
#define MS_UTIL_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ms_strmap_entry {
	char *key; /* owned; NULL = empty slot */
	unsigned char value[32];
	int mark;
	int tag; /* free for the caller; 0 when new */
} ms_strmap_entry;

typedef struct ms_strmap {
	ms_strmap_entry *slots;
	size_t nslots; /* power of two */
	size_t count;
} ms_strmap;

/* FNV-1a (64 bits) of s's bytes: the map's hash, and the segment of a partition's vkey. */
uint64_t ms_fnv1a(const char *s);

void ms_strmap_init(ms_strmap *m);
void ms_strmap_free(ms_strmap *m);
/* Insert or find key (copied); *entry is the slot. Returns 1 if new, 0 if found, <0 on error. */
int ms_strmap_put(ms_strmap *m, const char *key, ms_strmap_entry **entry);
/* The slot for key, or NULL. */
ms_strmap_entry *ms_strmap_get(const ms_strmap *m, const char *key);

#endif
