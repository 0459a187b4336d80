/*
 * Partition checks of the snapshot driver, shared by the writer (a batch
 * before it is written), the loader (every line of an export without a
 * manifest) and verify_table (every line of a file with one): a partition
 * has as many values as its table has partition keys, and no values twice
 * in one table.  Values are remembered as fingerprints, never as text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "util/url.h" /* before the sys headers, which name struct ms_url */
#include "metasync/sys/catalog.h"
#include "metasync/sys/store.h"
#include "util/buf.h"
#include "snapshot_internal.h"

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

void snap_fpset_free(fpset *set)
{
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

static uint64_t fp_word(const unsigned char *fp)
{
	uint64_t h;

	memcpy(&h, fp, sizeof(h));
	return h;
}

/* The slot holding fp, or NULL. */
const fp_slot *snap_fpset_find(const fpset *set, const unsigned char *fp)
{
	size_t i, mask;

	if (!set->cap)
		return NULL;
	mask = set->cap - 1;
	for (i = fp_word(fp) & mask; set->slots[i].file; i = (i + 1) & mask)
		if (memcmp(set->slots[i].fp, fp, FP_LEN) == 0)
			return &set->slots[i];
	return NULL;
}

/* Add fp (not in the set) first seen in file index fi at line; 0 or MS_ENOMEM. */
int snap_fpset_add(fpset *set, const unsigned char *fp, size_t fi, uint64_t line)
{
	size_t i, mask;

	if ((set->n + 1) * 4 > set->cap * 3) {
		size_t ncap = set->cap ? set->cap * 2 : 64, j;
		fp_slot *ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return MS_ENOMEM;
		for (j = 0; j < set->cap; j++) {
			if (!set->slots[j].file)
				continue;
			for (i = fp_word(set->slots[j].fp) & (ncap - 1); ns[i].file;
			     i = (i + 1) & (ncap - 1))
				;
			ns[i] = set->slots[j];
		}
		free(set->slots);
		set->slots = ns;
		set->cap = ncap;
	}
	mask = set->cap - 1;
	for (i = fp_word(fp) & mask; set->slots[i].file; i = (i + 1) & mask)
		;
	memcpy(set->slots[i].fp, fp, FP_LEN);
	set->slots[i].file = fi + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(fi + 1);
	set->slots[i].line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	set->n++;
	return 0;
}

static int fp_begin(EVP_MD_CTX *md)
{
	return EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static int fp_value(EVP_MD_CTX *md, const char *v, size_t n)
{
	unsigned char len[8];
	int i;

	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (8 * i));
	return EVP_DigestUpdate(md, len, sizeof(len)) == 1 && EVP_DigestUpdate(md, v, n) == 1 ? 0
											      : -1;
}

static int fp_end(EVP_MD_CTX *md, unsigned char *fp)
{
	unsigned char full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(md, full, &n) != 1 || n < FP_LEN)
		return -1;
	memcpy(fp, full, FP_LEN);
	return 0;
}

/* The fingerprint of a values key, as the writer takes it (no parse); 0 or -1. */
int snap_fp_vkey(EVP_MD_CTX *md, const char *vkey, unsigned char *fp)
{
	return fp_begin(md) < 0 || fp_value(md, vkey, strlen(vkey)) < 0 || fp_end(md, fp) < 0 ? -1
											      : 0;
}

/* The fingerprint and number of the values a peek found. */
int snap_fp_peeked(EVP_MD_CTX *md, const ms_line_values *lv, unsigned char *fp, ms_error *err)
{
	size_t i;
	int bad = fp_begin(md);

	for (i = 0; i < lv->n && !bad; i++)
		bad = fp_value(md, lv->v[i], lv->len[i]);
	if (bad || fp_end(md, fp) < 0)
		return ms_error_set(err, MS_ERROR, "sha256 failed");
	return 0;
}

/* The fingerprint and number of a parsed partition's values. */
int snap_fp_parsed(EVP_MD_CTX *md, const ms_entity *e, unsigned char *fp, size_t *n, ms_error *err)
{
	const cJSON *v;
	int bad = fp_begin(md);

	*n = 0;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(e->doc, "Values"))
	{
		if (!bad)
			bad = fp_value(md, v->valuestring, strlen(v->valuestring));
		(*n)++;
	}
	if (bad || fp_end(md, fp) < 0)
		return ms_error_set(err, MS_ERROR, "sha256 failed");
	return 0;
}

/*
 * Refuse a partition of t with n values whose key can not be the table's
 * (ms_partition_check_count).  While t's keys are unknown, only a
 * partition without values can be told.
 */
int snap_check_value_count(const table_rec *t, size_t n, const char *vkey, ms_error *err)
{
	size_t nkeys = t->nkeys < 0 ? n : (size_t)t->nkeys;

	return ms_partition_check_count(t->database, t->name, vkey, n, nkeys, err);
}

/*
 * Check a partition line of table t (line `line` of file fi) with n values
 * of fingerprint fp, and remember its values: MS_EINVAL (message without
 * file and line) when the count is wrong or t already has a line with these
 * values, naming where; 0 when good; MS_ENOMEM.
 */
int snap_check_part_line(const snapshot *s, table_rec *t, size_t n, const unsigned char *fp,
			 const char *vkey, size_t fi, uint64_t line, ms_error *err)
{
	const fp_slot *first;
	int rc;

	if ((rc = snap_check_value_count(t, n, vkey, err)) < 0)
		return rc;
	if ((first = snap_fpset_find(&t->seen, fp)) != NULL) {
		if (first->file - 1 == fi)
			return ms_error_set(err, MS_EINVAL,
					    "partition %.200s of '%s.%s' appears twice (first at "
					    "line %u)",
					    vkey, t->database, t->name, first->line);
		return ms_error_set(err, MS_EINVAL,
				    "partition %.200s of '%s.%s' appears twice (first in file '%s' "
				    "line %u)",
				    vkey, t->database, t->name, s->files[first->file - 1].path,
				    first->line);
	}
	if (snap_fpset_add(&t->seen, fp, fi, line) < 0)
		return oom(err);
	return 0;
}
